interface Waiter<V> {
  resolve(value: V): void;
  reject(err: unknown): void;
}

interface Slot<V> {
  running: boolean;
  waiting: Waiter<V>[];
}

/**
 * Reads of one key that start after the caller asked, shared by everyone who asks while an earlier
 * read of that key is still running. A writer needs a read that sees its write; a read already in
 * flight may have started before it, so the caller joins the next one, which starts as soon as the
 * running one ends and serves every caller that queued meanwhile. A burst of N writes at one venue
 * then costs about two counter reads per read-time instead of N, each of them as fresh as N reads.
 */
export class FreshReads<V> {
  private readonly slots = new Map<string, Slot<V>>();

  constructor(private readonly read: (key: string) => Promise<V>) {}

  get(key: string): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      let slot = this.slots.get(key);
      if (!slot) {
        slot = { running: false, waiting: [] };
        this.slots.set(key, slot);
      }
      slot.waiting.push({ resolve, reject });
      if (!slot.running) this.start(key, slot);
    });
  }

  private start(key: string, slot: Slot<V>): void {
    const batch = slot.waiting;
    slot.waiting = [];
    slot.running = true;
    const settle = () => {
      slot.running = false;
      if (slot.waiting.length > 0) this.start(key, slot);
      else this.slots.delete(key);
    };
    this.read(key).then(
      (value) => {
        settle();
        for (const w of batch) w.resolve(value);
      },
      (err: unknown) => {
        settle();
        for (const w of batch) w.reject(err);
      },
    );
  }
}
