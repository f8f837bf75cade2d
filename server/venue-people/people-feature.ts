import type { AppContext } from '../context';
import type { Job } from '../lib/job';
import { peopleRoutes } from '../http/routes/people-routes';
import { safetyRoutes } from '../http/routes/safety-routes';
import type { Realtime } from '../realtime/realtime-feature';
import { VenuePeopleFanout } from './people-fanout';

/** The venue people list: the HTTP read, the live `venue:people` stream and the report route beside it. */
export interface VenuePeopleSettings {
  /** The count window (COUNT_COALESCE_MS): a phone at a busy venue gets both at the same gentle pace. */
  windowMs: number;
  /** PEOPLE_RESYNC_INTERVAL_MS. */
  resyncMs: number;
}

export function buildVenuePeople(ctx: AppContext, realtime: Pick<Realtime, 'journal' | 'fanout'>, settings: VenuePeopleSettings) {
  const fanout = new VenuePeopleFanout({
    io: ctx.io,
    prisma: ctx.db.prisma,
    store: ctx.presence,
    logger: ctx.logger,
    now: ctx.now,
    windowMs: settings.windowMs,
    outbox: realtime.fanout.outbox,
    // Expiries are pushed as they happen; the resync only repairs lost messages.
    resyncMs: settings.resyncMs,
  });
  fanout.listenToOtherNodes();
  realtime.journal.onFlush(fanout.onPresence);
  // A block changes what each of the two sees at a venue now, not at the next check-in.
  ctx.hooks.on('blockChanged', (me, them) => fanout.blockChanged(me, them));
  const job: Job = { name: 'venue-people', start: () => fanout.start(), stop: () => fanout.close() };
  return {
    fanout,
    safetyRouter: safetyRoutes(ctx),
    router: peopleRoutes(ctx),
    job,
  };
}
