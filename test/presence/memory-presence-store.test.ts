import { MemoryPresenceStore } from '../../server/presence/memory-presence-store';
import { CONTRACT_TIMINGS, describePresenceStore } from './presence-store.contract';

describePresenceStore('memory', async () => new MemoryPresenceStore(CONTRACT_TIMINGS));
