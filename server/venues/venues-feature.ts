import { Counter } from 'prom-client';
import type { AppContext } from '../context';
import { venueRoutes, type VenueReadSettings } from '../http/routes/venue-routes';
import type { Realtime } from '../realtime/realtime-feature';
import { PresenceDirectory } from '../social/presence-directory';
import { VenueAnswers } from './venue-answers';

/**
 * The venue read side: GET /api/venues and /api/venues/:id answered from node memory, fed by the
 * count fan-out's table and by the presence streams every node already receives.
 */
export interface VenueSettings extends VenueReadSettings {
  /** How often the presence directory re-reads the friends venue answers asked about. */
  refreshMs: number;
}

export function buildVenues(ctx: AppContext, realtime: Pick<Realtime, 'fanout' | 'journal'>, settings: VenueSettings) {
  const directory = new PresenceDirectory(ctx.presence, ctx.now, settings.refreshMs);
  // This node's own changes arrive through its journal; every other node's through the people relays,
  // which travel in the node's one fan-out frame per window (and as the old event from nodes that
  // predate the outbox, during a rolling deploy).
  realtime.journal.onFlush(directory.onJournal);
  realtime.fanout.outbox.onPeople((relays) => directory.onRelays(relays));
  ctx.io.on('venue:people-changes', (relays) => directory.onRelays(relays));
  // Keeps the friends venue answers asked about fresh off the request path (no store read per answer).
  const refresh = directory.start((err) => ctx.logger.warn({ err }, 'presence directory refresh failed'));
  ctx.stoppables.push({ name: 'presence directory refresh', stop: () => refresh.stop() });
  const table = realtime.fanout.table;
  const answers = new VenueAnswers({ ctx, counts: table, directory, ttlSeconds: settings.cacheSeconds });
  new Counter({
    name: 'treatme_venue_answer_store_reads_total',
    help: 'Reads venue answers made from the presence store because node memory did not have them: venue counts not yet heard of, friends not heard of lately',
    labelNames: ['kind'] as const,
    registers: [ctx.metrics.registry],
    collect() {
      this.reset();
      this.inc({ kind: 'count' }, table.reads().venues);
      this.inc({ kind: 'friend-presence' }, directory.storeReads);
    },
  });
  return { answers, directory, router: venueRoutes(ctx, answers, settings) };
}
