import type { ScanResponse } from '../../protocol/http/orders';
import { describeItems } from './orders-board';

export type ResultKind = 'held' | 'ok' | 'refused';

const AUTO_HIDE_MS: Record<ResultKind, number | null> = { held: null, ok: 8_000, refused: 20_000 };

/**
 * The full-screen verdict a bartender reads at arm's length: green with the drink to pour, or red with
 * why not. `held` waits for Confirm or Release; the others clear themselves after a while.
 */
export class ResultView {
  private readonly root = byId('result');
  private readonly icon = byId('result-icon');
  private readonly title = byId('result-title');
  private readonly detail = byId('result-detail');
  private readonly items = byId<HTMLUListElement>('result-items');
  private readonly who = byId('result-who');
  readonly confirmBtn = byId<HTMLButtonElement>('result-confirm');
  readonly releaseBtn = byId<HTMLButtonElement>('result-release');
  readonly dismissBtn = byId<HTMLButtonElement>('result-dismiss');
  private timer: ReturnType<typeof setTimeout> | undefined;
  onHide: () => void = () => undefined;

  constructor() {
    this.dismissBtn.addEventListener('click', () => this.hide());
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !this.root.hidden && this.root.dataset.kind !== 'held') this.hide();
    });
  }

  get visible(): boolean {
    return !this.root.hidden;
  }

  /** The first scan holds the drink: show what to pour and for whom. */
  held(scan: ScanResponse, who: string): void {
    this.show('held', '✓', 'Serve', '', scan, who);
  }

  redeemed(scan: ScanResponse, who: string): void {
    this.show('ok', '✓', 'Redeemed', 'Drink served — all done.', scan, who);
  }

  refused(title: string, detail: string): void {
    this.show('refused', '✗', title, detail, null, '');
  }

  setBusy(busy: boolean): void {
    this.confirmBtn.disabled = busy;
    this.releaseBtn.disabled = busy;
  }

  hide(): void {
    clearTimeout(this.timer);
    this.root.hidden = true;
    delete this.root.dataset.kind;
    this.onHide();
  }

  private show(kind: ResultKind, icon: string, title: string, detail: string, scan: ScanResponse | null, who: string): void {
    clearTimeout(this.timer);
    this.root.dataset.kind = kind;
    this.icon.textContent = icon;
    this.title.textContent = title;
    this.detail.textContent = detail;
    this.detail.hidden = !detail;
    this.items.replaceChildren(
      ...(scan ? describeItems(scan.order).split(', ') : []).map((line) => {
        const li = document.createElement('li');
        li.textContent = line;
        return li;
      }),
    );
    this.who.textContent = who;
    this.who.hidden = !who;
    this.confirmBtn.hidden = kind !== 'held';
    this.releaseBtn.hidden = kind !== 'held';
    this.dismissBtn.hidden = kind === 'held';
    this.dismissBtn.textContent = kind === 'ok' ? 'Done' : 'OK';
    this.setBusy(false);
    this.root.hidden = false;
    (kind === 'held' ? this.confirmBtn : this.dismissBtn).focus();
    const ms = AUTO_HIDE_MS[kind];
    if (ms !== null) this.timer = setTimeout(() => this.hide(), ms);
  }
}

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}
