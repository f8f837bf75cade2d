import { DriftingMemoryStore } from './drifting-memory-store';
import { CONTRACT_TIMINGS, describePresenceStore } from './presence-store.contract';

describePresenceStore('memory', async () => new DriftingMemoryStore(CONTRACT_TIMINGS));
