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

/**
 * FreshReads for many keys at once: each caller gets, for each key it asks, a read that started after
 * it asked; the reads that start in the same turn of the event loop go out as one `readMany` (one
 * request for every venue a committed batch touched, say), and a key already being read is queued for
 * the next one, shared by everyone who asked meanwhile.
 */
export class FreshBatchReads<V> {
  private readonly running = new Set<string>();
  /** Keys asked while a read of them ran, with who waits. */
  private readonly next = new Map<string, Waiter<V>[]>();
  /** Keys to read in the read that starts at the end of this turn. */
  private starting: Map<string, Waiter<V>[]> | undefined;

  constructor(private readonly readMany: (keys: string[]) => Promise<Map<string, V>>) {}

  get(key: string): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const w = { resolve, reject };
      if (this.running.has(key)) {
        const list = this.next.get(key);
        if (list) list.push(w);
        else this.next.set(key, [w]);
        return;
      }
      this.enqueue(key, [w]);
    });
  }

  private enqueue(key: string, waiters: Waiter<V>[]): void {
    if (!this.starting) {
      this.starting = new Map();
      setImmediate(() => this.start());
    }
    const list = this.starting.get(key);
    if (list) list.push(...waiters);
    else this.starting.set(key, waiters);
  }

  private start(): void {
    const batch = this.starting;
    this.starting = undefined;
    if (!batch || batch.size === 0) return;
    const keys = [...batch.keys()];
    for (const k of keys) this.running.add(k);
    const settle = () => {
      for (const k of keys) {
        this.running.delete(k);
        const queued = this.next.get(k);
        if (queued) {
          this.next.delete(k);
          this.enqueue(k, queued);
        }
      }
    };
    this.readMany(keys).then(
      (values) => {
        settle();
        for (const [k, ws] of batch) for (const w of ws) w.resolve(values.get(k) as V);
      },
      (err: unknown) => {
        settle();
        for (const ws of batch.values()) for (const w of ws) w.reject(err);
      },
    );
  }
}
