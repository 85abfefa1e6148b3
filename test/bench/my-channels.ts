/**
 * GET /channels for a user in 1,000 channels (target: a page of 50 with counts at p99 ≤ 15 ms), and what the
 * ordering costs a message write, against the alternatives it was chosen over:
 *
 *   chosen   PostgreSQL chats.last_activity_at, bumped by each message write (one single-row UPDATE beside
 *            the Scylla writes), read with one keyset query over the user's participants.
 *   read     no write cost: read every channel's channel_metadata.last_message_id (1,000 partitions, one
 *            multi-partition IN per 100) and sort in memory, per page.
 *   fan-out  a Scylla table keyed by user, clustered by activity: each message write deletes and re-inserts
 *            the channel's row for every member (timed here for 100 members).
 *
 * Part of `npm run bench`; `node --import tsx test/bench/my-channels.ts` runs it alone.
 */
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { getConfig, loadConfig } from '../../lib/config.js';
import { getPostgres, closePostgres } from '../../lib/postgres/pool.js';
import { closeScylla } from '../../lib/scylla/client.js';
import { queryCounter } from '../../lib/scylla/execute.js';
import { migrateAll } from '../../lib/use-cases/migrations.js';
import { startLocalStores } from '../../infra/local/stores.js';
import { apigwEvent, lambdaContext, type EventInput } from '../support/apigw.js';
import { dropNamespaces, uniqueName } from '../support/namespaces.js';
import { round, summarize, timeSequential, type Summary } from './stats.js';

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode?: number; body?: string }>;
const handlerOf = async (name: string) => ((await import(`../../functions/${name}.ts`)) as { handler: Handler }).handler;

async function invoke(handler: Handler, input: EventInput, expected: number): Promise<any> {
  const result = await handler(apigwEvent(input), lambdaContext());
  if (result.statusCode !== expected) throw new Error(`${input.method} ${input.route}: ${result.statusCode} ${result.body}`);
  return result.body ? JSON.parse(result.body) : undefined;
}

async function measure(fn: (i: number) => Promise<unknown>, samples: number, runs: number): Promise<Summary> {
  await timeSequential(Math.min(50, samples), fn);
  const all: number[][] = [];
  for (let run = 0; run < runs; run++) all.push(await timeSequential(samples, fn));
  return summarize(all);
}

export interface MyChannelsResult {
  channels: number;
  withMessages: number;
  firstPage: Summary;
  randomPage: Summary;
  statementsPerPage: { scylla: number; postgres: number };
  targetP99Ms: number;
  met: boolean;
  writeCost: { activityUpdate: Summary; note: string };
  alternatives: { readAllMetadata: Summary; fanOut100Members: Summary };
}

/** Seeds one reader in `channels` channels (messages in a third, mentions and read positions in some) and times the listing. */
export async function measureMyChannels(options: { channels?: number; samples?: number; runs?: number; say?: (line: string) => void } = {}): Promise<MyChannelsResult> {
  const total = options.channels ?? 1000;
  const samples = options.samples ?? 300;
  const runs = options.runs ?? 3;
  const say = options.say ?? (() => undefined);
  const h = {
    createChannel: await handlerOf('create-channel'),
    addMember: await handlerOf('add-member'),
    createMessage: await handlerOf('create-message'),
    setReadPosition: await handlerOf('set-read-position'),
    listChannels: await handlerOf('list-channels'),
  };
  const owner = { sub: randomUUID() };
  const reader = randomUUID();
  const ids: string[] = [];
  const started = performance.now();
  let withMessages = 0;
  for (let i = 0; i < total; i++) {
    const channel = await invoke(h.createChannel, { method: 'POST', route: '/channels', claims: owner, body: { name: `mine ${i}` } }, 201);
    ids.push(channel.id);
    await invoke(h.addMember, { method: 'PUT', route: '/channels/{channel_id}/members/{user_id}', params: { channel_id: channel.id, user_id: reader }, claims: owner }, 204);
    if (i % 3 === 0) {
      withMessages += 1;
      const params = { channel_id: channel.id };
      const first = await invoke(h.createMessage, { method: 'POST', route: '/channels/{channel_id}/messages', params, claims: owner, body: { content: 'hello' } }, 201);
      for (let m = 0; m < 3; m++) {
        await invoke(h.createMessage, { method: 'POST', route: '/channels/{channel_id}/messages', params, claims: owner, body: { content: `news ${m}`, ...(m === 1 ? { mentions: [reader] } : {}) } }, 201);
      }
      // Half of those the reader has partly read; the rest are wholly unread.
      if (i % 6 === 0) await invoke(h.setReadPosition, { method: 'PUT', route: '/channels/{channel_id}/read-position', params, claims: { sub: reader }, body: { message_id: first.id } }, 200);
    }
  }
  say(`  seeded ${total} channels (${withMessages} with messages) in ${round((performance.now() - started) / 1000, 1)} s`);

  const list = (query: Record<string, string>) => invoke(h.listChannels, { method: 'GET', route: '/channels', query, claims: { sub: reader } }, 200);
  const cursors: string[] = [];
  for (let page = await list({ limit: '50' }); page.next_cursor; page = await list({ limit: '50', cursor: page.next_cursor })) cursors.push(page.next_cursor);
  const before = queryCounter.count;
  await list({ limit: '50' });
  const scyllaStatements = queryCounter.count - before;
  const firstPage = await measure(() => list({ limit: '50' }), samples, runs);
  const randomPage = await measure((i) => list({ limit: '50', cursor: cursors[i % cursors.length]! }), samples, runs);
  say(`  page of 50 with counts: first p50 ${round(firstPage.p50)} ms p99 ${round(firstPage.p99)} ms; any page p99 ${round(randomPage.p99)} ms`);

  const db = await getPostgres();
  const activityUpdate = await measure((i) => db.query('UPDATE chats SET last_activity_at = $2 WHERE id = $1 AND last_activity_at < $2', [ids[i % ids.length], new Date(Date.now() + i)]), samples, runs);

  const config = getConfig().scylla;
  const raw = new cassandra.Client({ contactPoints: config.contactPoints, localDataCenter: config.localDataCenter, keyspace: config.keyspace, protocolOptions: { port: config.port } });
  await raw.connect();
  const read = { prepare: true, consistency: cassandra.types.consistencies.localOne, fetchSize: 0 };
  const readAllMetadata = await measure(async () => {
    const rows = await Promise.all(
      Array.from({ length: Math.ceil(ids.length / 100) }, (_, chunk) =>
        raw.execute('SELECT channel_id, last_message_id, created_at FROM channel_metadata WHERE channel_id IN ?', [ids.slice(chunk * 100, chunk * 100 + 100)], read),
      ),
    );
    return rows.flatMap((result) => result.rows).sort((a, b) => String(b.get('last_message_id')).localeCompare(String(a.get('last_message_id')))).slice(0, 50);
  }, Math.min(samples, 100), runs);
  await raw.execute('CREATE TABLE IF NOT EXISTS bench_user_channels (user_id uuid, activity timeuuid, channel_id uuid, PRIMARY KEY (user_id, activity)) WITH CLUSTERING ORDER BY (activity DESC)');
  const members = Array.from({ length: 100 }, () => randomUUID());
  const write = { prepare: true, consistency: cassandra.types.consistencies.localQuorum };
  const fanOut100Members = await measure(async () => {
    const previous = cassandra.types.TimeUuid.now();
    const next = cassandra.types.TimeUuid.now();
    await Promise.all(
      members.map((member) =>
        raw.batch(
          [
            { query: 'DELETE FROM bench_user_channels WHERE user_id = ? AND activity = ?', params: [member, previous] },
            { query: 'INSERT INTO bench_user_channels (user_id, activity, channel_id) VALUES (?, ?, ?)', params: [member, next, ids[0]] },
          ],
          { ...write, logged: false },
        ),
      ),
    );
  }, Math.min(samples, 100), runs);
  await raw.shutdown();
  say(`  write cost: activity UPDATE p50 ${round(activityUpdate.p50)} ms p99 ${round(activityUpdate.p99)} ms; fan-out to 100 members p99 ${round(fanOut100Members.p99)} ms; read-all-metadata page p99 ${round(readAllMetadata.p99)} ms`);

  return {
    channels: total,
    withMessages,
    firstPage,
    randomPage,
    statementsPerPage: { scylla: scyllaStatements, postgres: 1 },
    targetP99Ms: 15,
    met: Math.max(firstPage.p99, randomPage.p99) <= 15,
    writeCost: { activityUpdate, note: 'runs beside the Scylla writes of persistMessage; a failure is logged and repaired later, never fails the write' },
    alternatives: { readAllMetadata, fanOut100Members },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const log = (line: string) => console.error(`bench: ${line}`);
  const stores = await startLocalStores({ log });
  const namespace = uniqueName('bench');
  Object.assign(process.env, stores.env, { SCYLLA_KEYSPACE: namespace, DATABASE_SCHEMA: namespace, LOG_LEVEL: 'ERROR', RATE_LIMIT_WRITES: '1000000', METRICS_ENABLED: 'false' });
  await migrateAll(loadConfig(), () => undefined);
  try {
    console.log(JSON.stringify(await measureMyChannels({ say: log, samples: Number(process.env.BENCH_SAMPLES ?? 300), runs: Number(process.env.BENCH_RUNS ?? 3) }), null, 2));
  } finally {
    await closeScylla().catch(() => undefined);
    await closePostgres().catch(() => undefined);
    await dropNamespaces({ ...process.env }, (name) => name === namespace).catch(() => undefined);
    await stores.stop({ keepCql: true });
  }
}
