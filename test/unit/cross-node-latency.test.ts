import { describe, expect, it } from 'vitest';
import { matchAcks, type AckLog, type Receipt } from '../../bench/lib/cross-node-latency';

/** The benchmark's pairing must not depend on whether the ack or the broadcast arrived first. */
describe('matchAcks', () => {
  const r = (venueId: string, version: number, node: number, receivedAt: number): Receipt => ({ venueId, version, node, receivedAt });
  const a = (venueId: string, version: number, node: number, sentAt: number, ackAt: number): AckLog => ({
    venueId,
    version,
    node,
    sentAt,
    ackAt,
  });

  it('pairs an ack with a broadcast that arrived before the ack did', () => {
    const m = matchAcks([a('v', 3, 0, 100, 180)], [r('v', 3, 1, 130), r('v', 3, 2, 150)], 3);
    expect(m.firstOther.count).toBe(1);
    expect(m.firstOther.percentile(50)).toBe(30);
    expect(m.everyOther.count).toBe(2);
    expect(m.everyOther.max).toBe(50);
    expect(m.unmatched).toBe(0);
    // The viewer on node 1 heard it 50 ms before the sender got its ack.
    expect(m.viewerMinusAck.percentile(50)).toBe(-50);
  });

  it("ignores the sender's own node, older versions and receipts before the send", () => {
    const receipts = [r('v', 5, 0, 110), r('v', 2, 1, 120), r('v', 9, 1, 90), r('w', 9, 1, 115), r('v', 6, 2, 170)];
    const m = matchAcks([a('v', 5, 0, 100, 140)], receipts, 3);
    expect(m.firstOther.percentile(50)).toBe(70);
  });

  it('counts an ack no other node saw covered as unmatched', () => {
    const m = matchAcks([a('v', 4, 0, 100, 120)], [r('v', 3, 1, 130), r('v', 4, 0, 110)], 3);
    expect(m.unmatched).toBe(1);
    expect(m.firstOther.count).toBe(0);
  });
});
