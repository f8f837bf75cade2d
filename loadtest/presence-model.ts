/**
 * What each venue's count must be, worked out from what the replayer actually did and when (real
 * epoch ms), under the server's presence rules (SPEC "Counts are exact", server/presence/presence-store.ts):
 *
 *  - a check-in or heartbeat keeps a stay alive until `timeout` after it;
 *  - a closed socket's stay ends `grace` after the close unless the user reconnects first;
 *  - a stay never outlives `ttl` after its check-in; a leave ends it at once.
 *
 * The server's clock is only known to lie between a request's send and its ack, so every moment is a
 * window [lo, hi]. A user whose stay might or might not have ended at the judged moment is "possible";
 * the replayer waits those out at quiesce points, and the judge accepts a count between the definite
 * users and the definite plus possible ones.
 */
/** A request the client gave up on may still run on the server this much later. */
const LATE_SERVER_MS = 5_000;

export interface ServerTimings {
  timeoutMs: number;
  graceMs: number;
  ttlMs: number;
  /** How late the server may act on an expiry: sweep + liveness interval + coalescing + slack. */
  settleMs: number;
  /** How long after a client closes its socket the server may notice. */
  closeLagMs: number;
}

interface Window {
  lo: number;
  hi: number;
}

interface UserPresence {
  venue: number | null;
  connected: boolean;
  beat: Window;
  since: Window;
  closed: Window | null;
  /** A race we cannot call (a reconnect just as the grace ran out, a lost ack): the server's next answer decides. */
  unsure: boolean;
  /** While unsure after a lost check-in: the venue the user may still be at instead. */
  alt: number | null;
  /**
   * The node holding this stay was killed (chaos): no grace cut or heartbeat timeout runs for it any
   * more, a survivor ends it when the dead node's lease lapses, unless the phone reconnects first.
   */
  orphaned: Window | null;
}

export interface VenueExpectation {
  /** Users surely counted. */
  lo: number;
  /** Users that may be counted. */
  hi: number;
}

export class PresenceModel {
  private readonly users = new Map<number, UserPresence>();
  /** Heartbeat answers that contradicted a stay the model was sure of (the counts will show it too). */
  contradictions = 0;

  constructor(readonly timings: ServerTimings) {}

  private state(u: number): UserPresence {
    let s = this.users.get(u);
    if (!s) {
      s = {
        venue: null,
        connected: false,
        beat: { lo: 0, hi: 0 },
        since: { lo: 0, hi: 0 },
        closed: null,
        unsure: false,
        alt: null,
        orphaned: null,
      };
      this.users.set(u, s);
    }
    return s;
  }

  /** When the stay ends, as a window; null when there is no stay. */
  endOf(u: number): Window | null {
    const s = this.users.get(u);
    if (!s || s.venue === null) return null;
    const t = this.timings;
    let lo = Math.min(s.beat.lo + t.timeoutMs, s.since.lo + t.ttlMs);
    let hi = Math.min(s.beat.hi + t.timeoutMs, s.since.hi + t.ttlMs);
    if (s.closed) {
      lo = Math.min(lo, s.closed.lo + t.graceMs);
      hi = Math.min(hi, s.closed.hi + t.graceMs);
    }
    // The dead node's rules (its grace cut, its heartbeat clock) may or may not have run before it died;
    // the survivors' reap is the latest the stay may last.
    if (s.orphaned) return { lo: Math.min(lo, s.orphaned.lo), hi: s.orphaned.hi };
    return { lo, hi };
  }

  /** 'yes' | 'no' | 'maybe': is the stay still counted at every moment in [lo, hi]? */
  private aliveAt(u: number, at: Window, orphansGone = false): 'yes' | 'no' | 'maybe' {
    const s = this.users.get(u);
    if (!s || s.venue === null) return 'no';
    if (orphansGone && s.orphaned) return 'no';
    const end = this.endOf(u)!;
    // Even an unsure stay surely ended once its latest possible end has passed.
    if (end.hi + this.timings.settleMs < at.lo) return 'no';
    if (s.unsure) return 'maybe';
    if (end.lo > at.hi) return 'yes';
    return 'maybe';
  }

  checkIn(u: number, v: number, sentAt: number, ackAt: number): void {
    const s = this.state(u);
    const continuing = s.venue === v && this.aliveAt(u, { lo: sentAt, hi: ackAt }) === 'yes';
    if (!continuing) s.since = { lo: sentAt, hi: ackAt };
    s.venue = v;
    s.beat = { lo: sentAt, hi: ackAt };
    s.connected = true;
    s.closed = null;
    s.unsure = false;
    s.alt = null;
    s.orphaned = null;
  }

  /**
   * A check-in whose ack never came (or failed in a way that may have written): only the server knows
   * whether the user is at the new venue or still at the old one. The server may run it a little after
   * the client gave up, hence the slack on the heartbeat window.
   */
  checkInUnknown(u: number, v: number, sentAt: number, ackAt: number): void {
    const s = this.state(u);
    const old = s.venue !== null && this.aliveAt(u, { lo: sentAt, hi: ackAt }) !== 'no' ? s.venue : null;
    const since = s.since;
    this.checkIn(u, v, sentAt, ackAt + LATE_SERVER_MS);
    if (old === v) s.since = since;
    s.unsure = true;
    s.alt = old !== v ? old : null;
  }

  /** The server's answer to a heartbeat names the venue it holds (null: none), which settles an unsure user. */
  heartbeat(u: number, sentAt: number, ackAt: number, serverVenue: number | null | undefined): void {
    const s = this.state(u);
    // A heartbeat answered by a live node: whatever it holds is that node's now, not the dead one's.
    if (serverVenue !== undefined) s.orphaned = null;
    if (s.unsure && serverVenue !== undefined) {
      s.unsure = false;
      s.alt = null;
      s.venue = serverVenue;
      if (serverVenue !== null) s.beat = { lo: sentAt, hi: ackAt };
      return;
    }
    const serverHasStay = serverVenue !== null && serverVenue !== undefined;
    const alive = this.aliveAt(u, { lo: sentAt, hi: ackAt });
    // The model keeps what the rules say even when the server disagrees: that disagreement is what the judge is for.
    if (alive === 'yes') {
      if (!serverHasStay) this.contradictions++;
      else s.beat = { lo: sentAt, hi: ackAt };
    } else if (alive === 'maybe' && serverHasStay) {
      s.beat = { lo: sentAt, hi: ackAt };
      s.unsure = false;
    } else if (alive === 'maybe') {
      s.venue = null;
      s.unsure = false;
    }
  }

  leave(u: number): void {
    const s = this.state(u);
    s.venue = null;
    s.orphaned = null;
    s.unsure = false;
    s.alt = null;
  }

  leaveUnknown(u: number): void {
    const s = this.state(u);
    if (s.venue !== null) s.unsure = true;
  }

  /**
   * A reconnect that timed out on the client may still have reached the server, which then restored the
   * stay and started a new grace period when the client gave up.
   */
  connectUnknown(u: number, sentAt: number, failedAt: number): void {
    const s = this.state(u);
    if (s.venue === null || this.aliveAt(u, { lo: sentAt, hi: failedAt }) === 'no') return;
    s.unsure = true;
    s.beat = { lo: s.beat.lo, hi: failedAt + this.timings.closeLagMs };
    s.closed = { lo: s.closed?.lo ?? sentAt, hi: failedAt + this.timings.closeLagMs };
  }

  disconnect(u: number, at: number): void {
    const s = this.state(u);
    s.connected = false;
    s.closed = { lo: at, hi: at + this.timings.closeLagMs };
  }

  /** The server restores an unexpired stay when the user's socket comes back, as if it had heartbeated. */
  connect(u: number, sentAt: number, connectedAt: number): void {
    const s = this.state(u);
    const alive = this.aliveAt(u, { lo: sentAt, hi: connectedAt + this.timings.closeLagMs });
    s.connected = true;
    if (alive === 'yes') {
      s.beat = { lo: sentAt, hi: connectedAt + this.timings.closeLagMs };
      s.closed = null;
      // The new node took the stay over from the dead one: ordinary rules again.
      s.orphaned = null;
    } else if (alive === 'no') {
      s.venue = null;
    } else {
      s.closed = null;
      s.beat = { lo: sentAt, hi: connectedAt + this.timings.closeLagMs };
      s.unsure = true;
    }
    if (s.venue === null) {
      s.unsure = false;
      s.alt = null;
      s.orphaned = null;
    }
  }

  /**
   * The node holding this user's socket (and stay) was SIGKILLed at `killedAt`. A survivor ends the stay
   * once the node's lease lapses: not before three quarters of a lease after the kill (renewals run every
   * quarter lease), and no later than `reapWithinMs` after it (the issue: NODE_LEASE_SECONDS + 5 s).
   * Returns whether the user had a stay the kill concerns.
   */
  nodeLost(u: number, killedAt: number, leaseMs: number, reapWithinMs: number): boolean {
    const s = this.users.get(u);
    if (s) s.connected = false;
    if (!s || s.venue === null || this.aliveAt(u, { lo: killedAt, hi: killedAt }) === 'no') return false;
    s.orphaned = { lo: killedAt + 0.75 * leaseMs - 500, hi: killedAt + reapWithinMs };
    s.closed = null;
    return true;
  }

  /**
   * The survivors were seen to have reaped the dead node (its lease claimed, every count exact without
   * its orphans): the stays it still held are over, and the model need not wait out their window.
   */
  orphansReaped(): number {
    let n = 0;
    for (const s of this.users.values()) {
      if (!s.orphaned) continue;
      if (s.venue !== null) n++;
      s.venue = null;
      s.orphaned = null;
      s.unsure = false;
      s.alt = null;
    }
    return n;
  }

  /** Users still orphaned by a killed node (not reconnected, not reaped as far as the model knows). */
  orphans(): number {
    let n = 0;
    for (const s of this.users.values()) if (s.venue !== null && s.orphaned) n++;
    return n;
  }

  /** Expected count per venue index for a check made between `at.lo` and `at.hi`. */
  expected(at: Window, venues: number, orphansGone = false): VenueExpectation[] {
    const out = Array.from({ length: venues }, () => ({ lo: 0, hi: 0 }));
    for (const [u, s] of this.users) {
      if (s.venue === null) continue;
      const alive = this.aliveAt(u, at, orphansGone);
      const e = out[s.venue];
      if (!e || alive === 'no') continue;
      e.hi++;
      if (alive === 'yes') e.lo++;
      const alt = s.alt !== null ? out[s.alt] : undefined;
      if (alt) alt.hi++;
    }
    return out;
  }

  /**
   * Users whose stay may end around a check starting now and lasting `checkMs`, and the latest moment
   * worth waiting for so that their fate is settled. Unsure users are not waited for: only the server knows.
   */
  pendingAt(now: number, checkMs: number): { users: number; settleBy: number } {
    let users = 0;
    let settleBy = now;
    for (const [u, s] of this.users) {
      if (s.venue === null || s.unsure) continue;
      if (this.aliveAt(u, { lo: now, hi: now + checkMs }) !== 'maybe') continue;
      users++;
      settleBy = Math.max(settleBy, this.endOf(u)!.hi + this.timings.settleMs + 1);
    }
    return { users, settleBy };
  }

  /** The model's view of one user, for a mismatch report. */
  describe(u: number): string {
    const s = this.users.get(u);
    if (!s) return 'never seen';
    const end = this.endOf(u);
    const w = (x: Window | null) => (x ? `[${x.lo},${x.hi}]` : 'null');
    return `venue ${s.venue} connected ${s.connected} unsure ${s.unsure} alt ${s.alt} beat ${w(s.beat)} since ${w(s.since)} closed ${w(s.closed)} end ${w(end)}`;
  }

  /** The venue the model says the user may be counted at, at `at` (null when surely not counted anywhere). */
  venueAt(u: number, at: number): number | null {
    const s = this.users.get(u);
    if (!s || s.venue === null) return null;
    return this.aliveAt(u, { lo: at, hi: at }) === 'no' ? null : s.venue;
  }

  unsureUsers(): number {
    let n = 0;
    for (const s of this.users.values()) if (s.venue !== null && s.unsure) n++;
    return n;
  }
}
