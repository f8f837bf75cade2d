import type { OrderView, RedemptionView } from '../../protocol/events';
import type { StaffOrderEntry } from '../../protocol/http/staff';

interface Entry {
  order: OrderView;
  redemption: RedemptionView | null;
  buyerName: string | null;
  recipientName: string | null;
  /** performance.now() of the last change we applied, so a stale catch-up list cannot drop it. */
  touchedAt: number;
}

const OPEN: ReadonlySet<OrderView['status']> = new Set(['PAID', 'ACCEPTED']);

/**
 * The venue's open orders: paid (waiting for the guest to accept) and accepted (ready to pour). Live
 * events and the REST catch-up list both feed it; whichever is newer wins for each order.
 */
export class OrdersBoard {
  private readonly entries = new Map<string, Entry>();
  private readonly fresh = new Set<string>();

  constructor(
    private readonly list: HTMLElement,
    private readonly countEl: HTMLElement,
    private readonly emptyEl: HTMLElement,
    private readonly myUserId: () => string | null,
  ) {}

  /** A live event: adds, updates or (once it is no longer open) removes the order. */
  upsert(order: OrderView, redemption?: RedemptionView | null): void {
    const known = this.entries.get(order.id);
    if (!OPEN.has(order.status)) {
      this.entries.delete(order.id);
    } else {
      if (!known) this.fresh.add(order.id);
      this.entries.set(order.id, {
        order,
        redemption: redemption === undefined ? (known?.redemption ?? null) : redemption,
        buyerName: known?.buyerName ?? null,
        recipientName: known?.recipientName ?? null,
        touchedAt: performance.now(),
      });
    }
    this.render();
  }

  /**
   * The catch-up list fetched at `requestedAt`: replaces everything older than that request; orders
   * changed by live events after it was sent are kept as they are.
   */
  replaceAll(list: StaffOrderEntry[], requestedAt: number): void {
    const listed = new Set(list.map((e) => e.order.id));
    for (const [id, e] of this.entries) if (!listed.has(id) && e.touchedAt < requestedAt) this.entries.delete(id);
    for (const e of list) {
      const known = this.entries.get(e.order.id);
      if (known && known.touchedAt >= requestedAt) {
        known.buyerName = e.buyerName;
        known.recipientName = e.recipientName;
        continue;
      }
      if (!known) this.fresh.add(e.order.id);
      this.entries.set(e.order.id, { ...e, touchedAt: requestedAt });
    }
    this.render();
  }

  get(orderId: string): Entry | undefined {
    return this.entries.get(orderId);
  }

  missingNames(): boolean {
    return [...this.entries.values()].some((e) => e.recipientName === null);
  }

  clear(): void {
    this.entries.clear();
    this.render();
  }

  private render(): void {
    const sorted = [...this.entries.values()].sort((a, b) => a.order.createdAt.localeCompare(b.order.createdAt));
    this.list.replaceChildren(...sorted.map((e) => this.item(e)));
    this.fresh.clear();
    this.countEl.textContent = String(sorted.length);
    this.emptyEl.hidden = sorted.length > 0;
  }

  private item(e: Entry): HTMLLIElement {
    const li = document.createElement('li');
    const held = e.redemption?.status === 'SCANNED';
    const stage = held ? 'held' : e.order.status === 'ACCEPTED' ? 'ready' : 'paid';
    li.className = `order${this.fresh.has(e.order.id) ? ' fresh' : ''}`;
    li.dataset.orderId = e.order.id;
    li.dataset.status = e.order.status;
    li.dataset.stage = stage;

    const items = document.createElement('div');
    items.className = 'order-items';
    items.textContent = describeItems(e.order);
    const who = document.createElement('div');
    who.className = 'order-who';
    who.textContent = `for ${e.recipientName ?? 'guest'}${e.buyerName ? ` · from ${e.buyerName}` : ''} · ordered ${clock(e.order.createdAt)}`;
    const badge = document.createElement('div');
    badge.className = 'order-stage';
    badge.textContent =
      stage === 'held'
        ? e.redemption?.bartenderId === this.myUserId()
          ? 'Held by you'
          : 'Being served'
        : stage === 'ready'
          ? 'Ready to redeem'
          : 'Waiting for guest';
    li.append(items, badge, who);
    if (e.order.message) {
      // The buyer's note, read out with the drink ("Happy birthday!"): plain text, never HTML.
      const note = document.createElement('blockquote');
      note.className = 'order-message';
      note.textContent = e.order.message;
      li.append(note);
    }
    return li;
  }
}

export function describeItems(order: OrderView): string {
  if (order.items && order.items.length > 0) return order.items.map((i) => `${i.quantity} × ${i.name}`).join(', ');
  return `Drink worth ${money(order.amountCents, order.currency)}`;
}

export function money(cents: number, currency: string): string {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: currency.toUpperCase() }).format(cents / 100);
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency.toUpperCase()}`;
  }
}

/** 24-hour local time, as a bartender reads it: "23:41". */
export function clock(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
}
