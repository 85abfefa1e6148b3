/**
 * `npm run bench`: measures the service against its physical limit (the raw driver), its anti-pattern
 * (a client per invocation), cold starts, scale, throughput and memory, on the same local stores as the
 * tests. Prints a summary and writes bench-results/{results.json,report.md,latency.svg}. Never fails on a
 * number: figures are reported, targets are compared in the report.
 *
 * BENCH_RUNS (3), BENCH_SAMPLES (300), BENCH_SCALE=quick (skips the 1 M-message channel), BENCH_ONLY=a,b
 * (only those sections: warm, myChannels, changes, push, antiPattern, createFloor, concurrency8, throughput,
 * scale, coldStart, memory; every section still gets the common seed), KEEP_STORES=1 (leave a node it started running).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import cassandra from 'cassandra-driver';
import { getConfig, loadConfig } from '../../lib/config.js';
import { encodeSnowflake, bucketOf } from '../../lib/ids/snowflake.js';
import { STATEMENTS } from '../../lib/messages/store.js';
import { migrateAll } from '../../lib/use-cases/migrations.js';
import { closePostgres, getPostgres } from '../../lib/postgres/pool.js';
import { closeScylla, getScylla } from '../../lib/scylla/client.js';
import { queryCounter } from '../../lib/scylla/execute.js';
import { toLong } from '../../lib/scylla/values.js';
import { startLocalStores } from '../../infra/local/stores.js';
import { projectRoot } from '../../infra/cdk/bundling.js';
import { apigwEvent, lambdaContext, type EventInput } from '../support/apigw.js';
import { dropNamespaces, uniqueName } from '../support/namespaces.js';
import { measureColdStarts, measureMemory } from './cold-start.js';
import { measureChanges } from './changes.js';
import { measureHttpThroughput } from './http-load.js';
import { measureMyChannels } from './my-channels.js';
import { measurePush } from './push.js';
import { renderReport } from './report.js';
import { round, summarize, timeConcurrent, timeSequential, type Summary } from './stats.js';
import { LOCAL_SERVICE_AUDIENCE } from '../../infra/local/jwt.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 300);
const QUICK = process.env.BENCH_SCALE === 'quick';
const SECTIONS = ['warm', 'myChannels', 'changes', 'push', 'antiPattern', 'createFloor', 'concurrency8', 'throughput', 'scale', 'coldStart', 'memory'] as const;
type Section = (typeof SECTIONS)[number];
const ONLY = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',').map((name) => name.trim()).filter(Boolean) : undefined;
const unknownSections = (ONLY ?? []).filter((name) => !(SECTIONS as readonly string[]).includes(name));
if (unknownSections.length > 0) throw new Error(`BENCH_ONLY: unknown section(s) ${unknownSections.join(', ')}; known: ${SECTIONS.join(', ')}`);
const selected = (section: Section) => !ONLY || ONLY.includes(section);
// The memory section runs the bundles the cold-start section builds.
if (selected('memory') && !selected('coldStart')) throw new Error('BENCH_ONLY: memory needs coldStart (it loads the bundles coldStart builds)');
const outDir = join(projectRoot, 'bench-results');
const log = (line: string) => console.error(`bench: ${line}`);
const { Long } = cassandra.types;

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode?: number; body?: string }>;
async function handlerOf(name: string): Promise<Handler> {
  return ((await import(`../../functions/${name}.ts`)) as { handler: Handler }).handler;
}

async function invoke(handler: Handler, input: EventInput, expected: number): Promise<any> {
  const result = await handler(apigwEvent(input), lambdaContext());
  if (result.statusCode !== expected) throw new Error(`${input.method} ${input.route}: ${result.statusCode} ${result.body}`);
  return result.body ? JSON.parse(result.body) : undefined;
}

/** Runs `fn` RUNS times of SAMPLES calls, after a warm-up; the summary is the median of the runs. */
async function measure(fn: (i: number) => Promise<unknown>, samples = SAMPLES): Promise<Summary> {
  await timeSequential(Math.min(50, samples), fn);
  const runs: number[][] = [];
  for (let run = 0; run < RUNS; run++) runs.push(await timeSequential(samples, fn));
  return summarize(runs);
}

const stores = await startLocalStores({ log });
const namespace = uniqueName('bench');
Object.assign(process.env, stores.env, {
  SCYLLA_KEYSPACE: namespace,
  DATABASE_SCHEMA: namespace,
  TELEGRAM_WEBHOOK_SECRET: 'bench-secret',
  LOG_LEVEL: 'ERROR',
  // One user writes thousands of messages here: the limit is still checked on every write, never reached.
  RATE_LIMIT_WRITES: '1000000',
  RATE_LIMIT_READS: '1000000',
});
await migrateAll(loadConfig(), () => undefined);
const results: Record<string, unknown> = {
  machine: { cpus: (await import('node:os')).cpus().length, memoryGb: round((await import('node:os')).totalmem() / 2 ** 30, 1), node: process.version, store: stores.cql.kind },
  settings: { runs: RUNS, samples: SAMPLES, quick: QUICK, only: ONLY ?? 'all' },
  startedAt: new Date().toISOString(),
};

try {
  const userId = '0b6a3b7e-6c1d-4f5e-8a9b-1c2d3e4f5a6b';
  const claims = { sub: userId };
  const h = {
    createChannel: await handlerOf('create-channel'),
    createMessage: await handlerOf('create-message'),
    getMessage: await handlerOf('get-message'),
    listMessages: await handlerOf('list-messages'),
    telegramMessage: await handlerOf('get-telegram-message'),
    webhook: await handlerOf('telegram-webhook'),
    putReaction: await handlerOf('put-reaction'),
    setReadPosition: await handlerOf('set-read-position'),
    search: await handlerOf('search-messages'),
  };
  const telegramChatId = -100_000_000_0000 - Math.floor(Math.random() * 1e6);
  // Linking a Telegram chat is a service principal's act; the bench user owns the channel all the same.
  const channel = await invoke(h.createChannel, { method: 'POST', route: '/channels', claims: { ...claims, scope: 'messages:service', aud: LOCAL_SERVICE_AUDIENCE }, body: { name: 'bench', telegram_chat_id: telegramChatId } }, 201);
  const channelId: string = channel.id;
  const created: string[] = [];
  for (let i = 0; i < 200; i++) {
    const message = await invoke(h.createMessage, { method: 'POST', route: '/channels/{channel_id}/messages', params: { channel_id: channelId }, claims, body: { content: `seed message ${i} about deployments and latency` } }, 201);
    created.push(message.id);
  }
  const telegramUpdate = (id: number) => ({
    update_id: id,
    message: { message_id: id, date: Math.floor(Date.now() / 1000), chat: { id: telegramChatId, type: 'supergroup' }, from: { id: 7, is_bot: false, first_name: 'B' }, text: `telegram ${id}` },
  });
  const webhookInput = (id: number): EventInput => ({ method: 'POST', route: '/telegram/webhook', body: telegramUpdate(id), headers: { 'x-telegram-bot-api-secret-token': 'bench-secret' } });
  await invoke(h.webhook, webhookInput(1), 200);

  // The raw driver, on its own client, with exactly the statements the operations send.
  const config = getConfig().scylla;
  const raw = new cassandra.Client({ contactPoints: config.contactPoints, localDataCenter: config.localDataCenter, keyspace: namespace, protocolOptions: { port: config.port } });
  await raw.connect();
  const read = { prepare: true, consistency: cassandra.types.consistencies.localOne };
  const write = { prepare: true, consistency: cassandra.types.consistencies.localQuorum };
  const pick = (i: number) => BigInt(created[i % created.length]!);
  const bucket = bucketOf(pick(0));
  const db = await getPostgres();
  const rawFloor = {
    systemLocal: () => raw.execute('SELECT release_version FROM system.local', [], read),
    getMessage: (i: number) => raw.execute(STATEMENTS.getOne, [channelId, bucketOf(pick(i)), toLong(pick(i))], read),
    createMessage: (i: number) =>
      raw.execute(STATEMENTS.insert, [channelId, bucket, Long.fromString(encodeSnowflake(Date.now(), 999, i % 4096).toString()), userId, 'raw', cassandra.types.unset, 'app', cassandra.types.unset, cassandra.types.unset, cassandra.types.unset, cassandra.types.unset, cassandra.types.unset, cassandra.types.unset], write),
    listMessages: async (i: number) => {
      await raw.execute(STATEMENTS.bucketsAtOrBelow, [channelId, bucketOf(pick(i)), 8], read);
      await raw.execute(STATEMENTS.olderInBucket, [channelId, bucket, toLong(pick(150)), 55], read);
    },
    telegramMessage: async () => {
      await raw.execute('SELECT channel_id, bucket, message_id FROM telegram_message_mapping WHERE telegram_message_id = ? AND telegram_chat_id = ?', [Long.fromNumber(1), Long.fromNumber(telegramChatId)], read);
      await raw.execute(STATEMENTS.getOne, [channelId, bucket, toLong(pick(0))], read);
    },
    telegramIngest: (i: number) =>
      raw.execute('INSERT INTO telegram_message_mapping (telegram_message_id, telegram_chat_id, channel_id, bucket, message_id) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS', [Long.fromNumber(10_000_000 + i + Math.floor(Math.random() * 1e9)), Long.fromNumber(telegramChatId), channelId, bucket, toLong(pick(i))], write),
    addReaction: async (i: number) => {
      const applied = await raw.execute('INSERT INTO message_reactions (channel_id, message_id, emoji, user_id, reacted_at) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS', [channelId, toLong(pick(i)), `:raw${i}:`, userId, new Date()], write);
      if (applied.wasApplied()) await raw.execute('UPDATE message_reaction_counts SET count = count + 1 WHERE channel_id = ? AND message_id = ? AND emoji = ?', [channelId, toLong(pick(i)), `:raw${i}:`], write);
    },
    readPosition: async (i: number) => {
      await raw.execute(STATEMENTS.getOne, [channelId, bucket, toLong(pick(i))], read);
      await raw.execute('UPDATE message_read_positions USING TIMESTAMP ? SET message_id = ? WHERE channel_id = ? AND user_id = ?', [Long.fromNumber(Date.now() * 1000), toLong(pick(i)), channelId, userId], write);
      await raw.execute('SELECT message_id FROM message_read_positions WHERE channel_id = ? AND user_id = ?', [channelId, userId], write);
    },
    search: () =>
      db.query(
        "SELECT message_id FROM message_search WHERE chat_id = $1 AND document @@ websearch_to_tsquery('english', $2) ORDER BY ts_rank_cd(document, websearch_to_tsquery('english', $2)) DESC LIMIT 26",
        [channelId, 'deployments'],
      ),
  };
  let reactionUser = 0;
  const handlerOps: Record<keyof typeof rawFloor, (i: number) => Promise<unknown>> = {
    systemLocal: async () => (await getScylla()).execute('SELECT release_version FROM system.local', [], { prepare: true }),
    getMessage: (i) => invoke(h.getMessage, { method: 'GET', route: '/channels/{channel_id}/messages/{message_id}', params: { channel_id: channelId, message_id: String(pick(i)) }, claims }, 200),
    createMessage: (i) => invoke(h.createMessage, { method: 'POST', route: '/channels/{channel_id}/messages', params: { channel_id: channelId }, claims, body: { content: `bench ${i}` } }, 201),
    listMessages: (i) => invoke(h.listMessages, { method: 'GET', route: '/channels/{channel_id}/messages', params: { channel_id: channelId }, query: { limit: '50', before: String(pick(150 + (i % 40))) }, claims }, 200),
    telegramMessage: () => invoke(h.telegramMessage, { method: 'GET', route: '/telegram/chats/{telegram_chat_id}/messages/{telegram_message_id}', params: { telegram_chat_id: String(telegramChatId), telegram_message_id: '1' }, claims }, 200),
    telegramIngest: (i) => invoke(h.webhook, webhookInput(1_000 + i + Math.floor(Math.random() * 1e9)), 200),
    addReaction: (i) => invoke(h.putReaction, { method: 'PUT', route: '/channels/{channel_id}/messages/{message_id}/reactions/{emoji}', params: { channel_id: channelId, message_id: String(pick(i)), emoji: `:h${reactionUser++}:` }, claims }, 204),
    readPosition: (i) => invoke(h.setReadPosition, { method: 'PUT', route: '/channels/{channel_id}/read-position', params: { channel_id: channelId }, claims, body: { message_id: String(pick(i)) } }, 200),
    search: () => invoke(h.search, { method: 'GET', route: '/channels/{channel_id}/search', params: { channel_id: channelId }, query: { q: 'deployments' }, claims }, 200),
  };

  const warm: Record<string, { raw: Summary; handler: Summary; ratioP50: number; ratioP99: number }> = {};
  if (selected('warm')) {
    log('warm latency: raw driver floor vs handler, interleaved per operation');
    for (const op of Object.keys(rawFloor) as (keyof typeof rawFloor)[]) {
      const rawSummary = await measure(rawFloor[op]);
      const handlerSummary = await measure(handlerOps[op]);
      warm[op] = { raw: rawSummary, handler: handlerSummary, ratioP50: round(handlerSummary.p50 / rawSummary.p50), ratioP99: round(handlerSummary.p99 / rawSummary.p99) };
      log(`  ${op}: raw p50 ${round(rawSummary.p50)} ms, handler p50 ${round(handlerSummary.p50)} ms (×${warm[op].ratioP50})`);
    }
    results.warm = warm;
  }

  if (selected('myChannels')) {
    log('my channels: a user in 1,000 channels, a page of 50 with counts; the write cost of the ordering and its alternatives');
    results.myChannels = await measureMyChannels({ say: log, samples: SAMPLES, runs: RUNS });
  }

  if (selected('changes')) {
    log('changes feed: a read of 100 changes against its two partition reads, and what the change record adds to a create (interleaved, on the app\'s client)');
    results.changes = await measureChanges({ say: log, samples: SAMPLES, runs: RUNS, userId });
  }

  if (selected('push')) {
    log('push: 1,000 WebSocket connections over 10 channels on the local server; REST ack → frame latency, and what publishing adds to a create');
    results.push = await measurePush({ say: log, samples: SAMPLES, runs: RUNS });
  }

  if (selected('antiPattern')) {
    log('anti-pattern: a client created and connected per invocation');
    const perInvocation = await measure(async (i) => {
      const client = new cassandra.Client({ contactPoints: config.contactPoints, localDataCenter: config.localDataCenter, keyspace: namespace, protocolOptions: { port: config.port } });
      await client.connect();
      await client.execute(STATEMENTS.getOne, [channelId, bucketOf(pick(i)), toLong(pick(i))], read);
      await client.shutdown();
    }, 40);
    const warmGet = warm.getMessage?.handler ?? (await measure(handlerOps.getMessage));
    results.antiPattern = { perInvocationGet: perInvocation, warmGet, ratioP50: round(perInvocation.p50 / warmGet.p50, 1) };
  }

  if (selected('createFloor')) {
    log('create floor including its search-index write (the two run side by side in the handler)');
    const createWithIndexFloor = await measure((i) =>
      Promise.all([
        rawFloor.createMessage(i),
        db.query('INSERT INTO message_search (chat_id, message_id, author_id, content, search_config, created_at) VALUES ($1, $2, $3, $4, $5::regconfig, now()) ON CONFLICT DO NOTHING', [channelId, String(9_000_000 + i + Math.floor(Math.random() * 1e12)), userId, 'raw floor', 'english']),
      ]),
    );
    log('the per-user rate-limit round trip every write makes (Upstash REST in front of Redis)');
    const { getRedis } = await import('../../lib/redis/client.js');
    const redis = await getRedis();
    results.rateLimitRoundTrip = await measure((i) => redis.pipeline().incr(`bench:rl:${i % 50}`).expire(`bench:rl:${i % 50}`, 20, 'NX').exec());
    const createHandler = warm.createMessage?.handler ?? (await measure(handlerOps.createMessage));
    results.createWithIndexFloor = { floor: createWithIndexFloor, handler: createHandler, ratioP50: round(createHandler.p50 / createWithIndexFloor.p50), ratioP99: round(createHandler.p99 / createWithIndexFloor.p99) };
  }

  if (selected('concurrency8')) {
    log('p99 at concurrency 8: handlers, and the raw driver beside them (the floor this machine sets)');
    const concurrency8: Record<string, { p50: number; p99: number; perSecond: number; rawP50: number; rawP99: number; errors: number; rawErrors: number }> = {};
    const atEight = async (fn: (i: number) => Promise<unknown>) => {
      const runs: number[][] = [];
      let perSecond = 0;
      let errors = 0;
      for (let run = 0; run < RUNS; run++) {
        const result = await timeConcurrent(8, 3000, fn);
        runs.push(result.samples);
        perSecond += result.perSecond / RUNS;
        errors += result.errors;
      }
      return { summary: summarize(runs), perSecond, errors };
    };
    for (const op of ['createMessage', 'getMessage', 'listMessages', 'telegramMessage', 'addReaction'] as const) {
      const handler = await atEight(handlerOps[op]);
      const rawResult = await atEight(rawFloor[op]);
      concurrency8[op] = {
        p50: round(handler.summary.p50),
        p99: round(handler.summary.p99),
        perSecond: round(handler.perSecond, 0),
        rawP50: round(rawResult.summary.p50),
        rawP99: round(rawResult.summary.p99),
        errors: handler.errors,
        rawErrors: rawResult.errors,
      };
      log(`  ${op}: handler p99 ${concurrency8[op].p99} ms, raw p99 ${concurrency8[op].rawP99} ms, errors ${handler.errors} / ${rawResult.errors}`);
    }
    results.concurrency8 = concurrency8;
  }

  if (selected('throughput')) {
    log('throughput: creates through the handlers');
    const throughput: Record<string, { perSecond: number; p99: number; errors: number }> = {};
    for (const concurrency of [1, 8, 32, 64]) {
      const result = await timeConcurrent(concurrency, 4000, handlerOps.createMessage);
      throughput[concurrency] = { perSecond: round(result.perSecond, 0), p99: round(summarize([result.samples]).p99), errors: result.errors };
    }
    results.throughputHandlers = throughput;
    results.throughputHttp = await measureHttpThroughput(channelId, userId, log);
  }

  if (selected('scale')) {
    log('scale: page cost against channel size and gaps');
    results.scale = await measureScale(raw, h.createChannel, h.listMessages, log);
  }

  await raw.shutdown();
  if (selected('coldStart')) {
    log('cold starts and bundle sizes');
    results.coldStart = await measureColdStarts({ ...process.env } as Record<string, string>, { channelId, messageId: created[0]!, userId }, log);
  }
  if (selected('memory')) {
    log('memory under sustained load');
    results.memory = await measureMemory({ ...process.env } as Record<string, string>, { channelId, userId }, log);
  }
} catch (error) {
  // A section that throws ends the run; what ran before it is still written, and the failure with it.
  results.failed = (error as Error).stack ?? String(error);
  throw error;
} finally {
  results.finishedAt = new Date().toISOString();
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'results.json'), JSON.stringify(results, null, 2));
  const { markdown, svg } = renderReport(results);
  writeFileSync(join(outDir, 'report.md'), markdown);
  writeFileSync(join(outDir, 'latency.svg'), svg);
  console.log(markdown);
  await closeScylla().catch(() => undefined);
  await closePostgres().catch(() => undefined);
  await dropNamespaces({ ...process.env }, (name) => name === namespace).catch(() => undefined);
  await stores.stop({ keepCql: process.env.KEEP_STORES === '1' });
}

/** Seeds channels of growing size, dense and sparse, and times a page of 50 at random points in each. */
async function measureScale(raw: cassandra.Client, createChannel: Handler, listMessages: Handler, say: (line: string) => void) {
  const userId = '0b6a3b7e-6c1d-4f5e-8a9b-1c2d3e4f5a6b';
  const claims = { sub: userId };
  const YEAR = 365 * 86_400_000;
  const end = Date.now() - 86_400_000;
  const shapes = [
    { name: 'dense 1k', count: 1_000, span: 1_000 * 60_000 },
    { name: 'dense 100k', count: 100_000, span: YEAR / 4 },
    ...(QUICK ? [] : [{ name: 'dense 1M', count: 1_000_000, span: YEAR }]),
    { name: 'sparse 1k, bursts over 2 years', count: 1_000, span: 2 * YEAR, clustered: true },
    { name: 'sparse 90, one per bucket', count: 90, span: 990 * 86_400_000, clustered: false, gapDays: 11 },
    { name: 'sparse 30, a month apart', count: 30, span: 900 * 86_400_000, clustered: false, gapDays: 30 },
  ];
  const out: Record<string, unknown> = {};
  for (const shape of shapes) {
    const channel = await invoke(createChannel, { method: 'POST', route: '/channels', claims, body: { name: shape.name } }, 201);
    const ids: bigint[] = [];
    const started = performance.now();
    const gap = 'gapDays' in shape && shape.gapDays ? shape.gapDays * 86_400_000 : shape.span / shape.count;
    for (let i = 0; i < shape.count; i++) {
      // Sparse channels come in bursts of 10 messages a minute apart, with months between bursts.
      const time = 'clustered' in shape && shape.clustered ? end - shape.span + Math.floor(i / 10) * (shape.span / (shape.count / 10)) + (i % 10) * 60_000 : end - (shape.count - i) * gap;
      ids.push(encodeSnowflake(Math.floor(time), 998, i % 4096));
    }
    await seedRows(raw, channel.id, userId, ids);
    say(`  ${shape.name}: seeded ${shape.count} in ${round((performance.now() - started) / 1000, 1)} s`);
    const anchors = Array.from({ length: 40 }, (_, i) => ids[Math.floor(((i + 1) / 41) * ids.length)]!);
    const queries: number[] = [];
    const summary = await measure(async (i) => {
      const before = queryCounter.count;
      await invoke(listMessages, { method: 'GET', route: '/channels/{channel_id}/messages', params: { channel_id: channel.id }, query: { limit: '50', before: String(anchors[i % anchors.length]) }, claims }, 200);
      queries.push(queryCounter.count - before);
    }, 100);
    out[shape.name] = { messages: shape.count, buckets: new Set(ids.map(bucketOf)).size, page: summary, queriesPerPage: { min: Math.min(...queries), max: Math.max(...queries), median: [...queries].sort((a, b) => a - b)[Math.floor(queries.length / 2)] } };
  }
  return out;
}

/** Writes messages and their bucket index straight to Scylla in per-partition batches. */
async function seedRows(raw: cassandra.Client, channelId: string, authorId: string, ids: bigint[]): Promise<void> {
  const byBucket = new Map<number, bigint[]>();
  for (const id of ids) {
    const bucket = bucketOf(id);
    const list = byBucket.get(bucket);
    if (list) list.push(id);
    else byBucket.set(bucket, [id]);
  }
  const batches: { query: string; params: unknown[] }[][] = [];
  for (const [bucket, bucketIds] of byBucket) {
    await raw.execute(STATEMENTS.indexBucket, [channelId, bucket], { prepare: true });
    for (let start = 0; start < bucketIds.length; start += 100) {
      batches.push(
        bucketIds.slice(start, start + 100).map((id) => ({
          query: 'INSERT INTO messages (channel_id, bucket, message_id, author_id, content, source) VALUES (?, ?, ?, ?, ?, ?)',
          params: [channelId, bucket, toLong(id), authorId, 'seeded for the scale benchmark', 'app'],
        })),
      );
    }
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        await raw.batch(batch, { prepare: true, logged: false, consistency: cassandra.types.consistencies.localOne });
      }
    }),
  );
}

