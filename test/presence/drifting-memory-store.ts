import { MemoryPresenceStore } from '../../server/presence/memory-presence-store';

/**
 * The contract's lost-write simulation for the in-process store, kept in test code (as the DynamoDB
 * one is): overwrites a venue's counter without a version bump, as a lost write would.
 */
export class DriftingMemoryStore extends MemoryPresenceStore {
  corruptCount(venueId: string, count: number): void {
    const c = this.counts.get(venueId) ?? { count: 0, version: 0 };
    this.counts.set(venueId, { count, version: c.version });
  }
}
