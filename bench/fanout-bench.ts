/**
 * Count messages one viewer receives while 1,000 users arrive at one venue within 10 s: TreatMe's
 * coalesced fan-out (COUNT_COALESCE_MS=250) against a naive broadcast per change (COUNT_COALESCE_MS=0),
 * same server, same arrivals, same run. Embedded stores, so it runs anywhere.
 */
import pino from 'pino';
import { io as ioClient, type Socket } from 'socket.io-client';
import { ClientEvent, type VenueCount } from '../protocol/events';
import { buildServer } from '../server/build-server';
import { loadConfig } from '../server/config/config';
import { ratio, table, writeSection } from './lib/report';

const USERS = Number(process.env.BENCH_USERS ?? 1000);
const ARRIVAL_MS = Number(process.env.BENCH_ARRIVAL_MS ?? 10_000);

interface RunResult {
  messages: number;
  finalCount: number;
  cpuMs: number;
  wallMs: number;
}

async function run(coalesceMs: number): Promise<RunResult> {
  const config = loadConfig({
    PGLITE_IN_MEMORY: 'true',
    LOG_LEVEL: 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    COUNT_COALESCE_MS: String(coalesceMs),
    SOCKET_EVENTS_PER_SECOND: '1000',
    SOCKET_EVENTS_BURST: '1000',
  });
  const server = await buildServer(config, { logger: pino({ level: 'silent' }) });
  const port = await server.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  const { prisma } = server.ctx.db;
  const venue = (await prisma.venue.findFirst({ orderBy: { slug: 'asc' } }))!;
  await prisma.user.createMany({
    data: Array.from({ length: USERS }, (_, i) => ({ displayName: `bench-${i}`, email: `bench-${coalesceMs}-${i}@bench.treatme.dev` })),
  });
  const users = await prisma.user.findMany({ where: { email: { endsWith: '@bench.treatme.dev' } }, select: { id: true } });

  const connect = (token?: string) =>
    new Promise<Socket>((res, rej) => {
      const s = ioClient(url, { auth: token ? { token } : {}, transports: ['websocket'], forceNew: true, reconnection: false });
      s.once('connect', () => res(s));
      s.once('connect_error', rej);
    });
  const viewer = await connect();
  let messages = 0;
  let last: VenueCount | undefined;
  viewer.on('venue:count', (c: VenueCount) => {
    messages++;
    if (!last || c.version > last.version) last = c;
  });
  await new Promise<void>((res) => viewer.emit(ClientEvent.VenueWatch, { venueIds: [venue.id] }, () => res()));
  const phones: Socket[] = [];
  for (let i = 0; i < users.length; i += 50) {
    phones.push(...(await Promise.all(users.slice(i, i + 50).map((u) => connect(server.ctx.tokens.sign(u.id))))));
  }

  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  await Promise.all(
    phones.map(
      (p, i) =>
        new Promise<void>((res) =>
          setTimeout(
            () => p.emit(ClientEvent.CheckIn, { venueId: venue.id, lat: venue.latitude, lng: venue.longitude }, () => res()),
            (i * ARRIVAL_MS) / USERS,
          ),
        ),
    ),
  );
  const deadline = Date.now() + 10_000;
  while ((last?.count ?? 0) < USERS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const wallMs = Date.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const result = { messages, finalCount: last?.count ?? 0, cpuMs: Math.round((cpu.user + cpu.system) / 1000), wallMs };
  for (const p of phones) p.disconnect();
  viewer.disconnect();
  await server.shutdown('bench');
  return result;
}

const naive = await run(0);
const ours = await run(250);
writeSection(
  'fanout',
  `## Fan-out: ${USERS} arrivals at one venue within ${ARRIVAL_MS / 1000} s (one viewer)

Same server and arrivals; baseline = a broadcast on every change (\`COUNT_COALESCE_MS=0\`), TreatMe = coalesced per venue (250 ms window, leading + trailing edge). Embedded stores, one process (clients included), so CPU is the whole process.

${table([
  {
    measure: '`venue:count` messages received by the viewer',
    baseline: String(naive.messages),
    ours: String(ours.messages),
    ratio: ratio(naive.messages, ours.messages),
    goal: '≥ 5×',
  },
  {
    measure: 'final count the viewer saw (must equal arrivals)',
    baseline: String(naive.finalCount),
    ours: String(ours.finalCount),
    ratio: '—',
    goal: `= ${USERS}`,
  },
  {
    measure: 'wall time until the viewer saw the final count (ms)',
    baseline: String(naive.wallMs),
    ours: String(ours.wallMs),
    ratio: ratio(naive.wallMs, ours.wallMs),
  },
  {
    measure: 'process CPU during arrivals (ms)',
    baseline: String(naive.cpuMs),
    ours: String(ours.cpuMs),
    ratio: ratio(naive.cpuMs, ours.cpuMs),
  },
])}
`,
);
if (ours.finalCount !== USERS || naive.finalCount !== USERS) process.exitCode = 1;
