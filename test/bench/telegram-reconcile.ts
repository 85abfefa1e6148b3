/**
 * `node --import tsx test/bench/telegram-reconcile.ts`: what one reconciler pass over a linked channel costs
 * with 1 k and with 1 M bridged messages (issue 16.3: the pass works on what changed since the last one). Each
 * channel is seeded as a reconciled channel of that size is: its mappings and its bucketed index (prepared
 * inserts through executeConcurrent), its count state and sync state, and a day of ingestion-log rows behind
 * the checkpoint. Then, in the same process and interleaved per round (the order flipping each round), a
 * pass over each channel: idle (nothing new) and after 10 new ingestions (through the ingestion's own store
 * calls). Writes bench-results/telegram-reconcile.json: median and p95 of each, statements per pass, and how
 * long seeding took. Never fails on a number.
 *
 * BENCH_TG_LARGE (1000000): the large channel's size; BENCH_TG_ROUNDS (40) per scenario; BENCH_TG_CONCURRENCY
 * (64) inserts in flight while seeding; KEEP_STORES=1 leaves a node it started running.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import cassandra from 'cassandra-driver';
import { getConfig, loadConfig } from '../../lib/config.js';
import { closePostgres } from '../../lib/postgres/pool.js';
import { closeScylla, getScylla, writeConsistency } from '../../lib/scylla/client.js';
import { queryCounter } from '../../lib/scylla/execute.js';
import { claimTelegramMessage, IMPORTED_COUNTED_AT, indexBucketOf, INDEX_BUCKET_SIZE, logDayOf, recordIngestion } from '../../lib/telegram/store.js';
import { saveCountState, saveCountedIngestions } from '../../lib/telegram/sync-state-store.js';
import { migrateAll } from '../../lib/use-cases/migrations.js';
import { Budget } from '../../lib/use-cases/reconciler/budget.js';
import { reconcileChannel, type ChannelReport } from '../../lib/use-cases/reconciler/telegram.js';
import { startLocalStores } from '../../infra/local/stores.js';
import { projectRoot } from '../../infra/cdk/bundling.js';
import { dropNamespaces, uniqueName } from '../support/namespaces.js';
import { percentile } from './stats.js';

const { Long } = cassandra.types;
const LARGE = Number(process.env.BENCH_TG_LARGE ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_TG_ROUNDS ?? 40);
const CONCURRENCY = Number(process.env.BENCH_TG_CONCURRENCY ?? 64);
const NEW_PER_PASS = 10;
/** Log rows behind the checkpoint in today's partition: the pass's slice must skip them, not read them. */
const LOG_ROWS_BEHIND = 1_000;
const started = performance.now();
const log = (line: string) => console.error(`telegram-reconcile [${Math.round((performance.now() - started) / 1000)} s]: ${line}`);
const round1 = (value: number) => Math.round(value * 10) / 10;

const stores = await startLocalStores({ log });
const namespace = uniqueName('benchtg');
Object.assign(process.env, stores.env, { SCYLLA_KEYSPACE: namespace, DATABASE_SCHEMA: namespace, LOG_LEVEL: 'ERROR', METRICS_ENABLED: 'false' });
await migrateAll(loadConfig(), () => undefined);

interface Channel {
  name: string;
  channelId: string;
  chatId: number;
  size: number;
  nextId: number;
  seedSeconds: number;
  insertsPerSecond: number;
}

/** A reconciled channel of `size` Telegram messages, ids 1..size, without a gap. */
async function seedChannel(name: string, size: number): Promise<Channel> {
  const client = await getScylla();
  const channelId = randomUUID();
  const chatId = -1_000_000_000_000 - Math.floor(Math.random() * 1e9);
  const now = Date.now();
  const ingestedAt = new Date(now - 86_400_000);
  const options = { prepare: true, consistency: writeConsistency(), concurrencyLevel: CONCURRENCY, raiseOnFirstError: true };
  const t0 = performance.now();
  const chunk = 50_000;
  for (let from = 1; from <= size; from += chunk) {
    const ids = Array.from({ length: Math.min(chunk, size - from + 1) }, (_, i) => from + i);
    await cassandra.concurrent.executeConcurrent(
      client,
      'INSERT INTO telegram_message_mapping (telegram_message_id, telegram_chat_id, channel_id, bucket, message_id) VALUES (?, ?, ?, ?, ?)',
      ids.map((id) => [Long.fromNumber(id), Long.fromNumber(chatId), channelId, 0, Long.fromNumber(1_000_000_000 + id)]),
      options,
    );
    await cassandra.concurrent.executeConcurrent(
      client,
      'INSERT INTO telegram_channel_index (channel_id, bucket, telegram_message_id, message_id, ingested_at, counted_at) VALUES (?, ?, ?, ?, ?, ?)',
      ids.map((id) => [channelId, indexBucketOf(id), Long.fromNumber(id), Long.fromNumber(1_000_000_000 + id), ingestedAt, IMPORTED_COUNTED_AT]),
      options,
    );
    if (size >= 100_000) log(`  ${name}: ${Math.min(size, from + chunk - 1)} of ${size} seeded`);
  }
  const buckets = Array.from({ length: indexBucketOf(size) + 1 }, (_, bucket) => [channelId, bucket]);
  await cassandra.concurrent.executeConcurrent(client, 'INSERT INTO telegram_channel_index_buckets (channel_id, bucket) VALUES (?, ?)', buckets, options);
  // Today's log partition holds rows the checkpoint has passed (ids already counted).
  const through = now - 60_000;
  const behind = Array.from({ length: Math.min(LOG_ROWS_BEHIND, size) }, (_, i) => [channelId, logDayOf(through), new Date(through - LOG_ROWS_BEHIND + i), Long.fromNumber(size - i)]);
  await cassandra.concurrent.executeConcurrent(client, 'INSERT INTO telegram_ingest_log (channel_id, day, logged_at, telegram_message_id) VALUES (?, ?, ?, ?)', behind, options);
  const seedSeconds = (performance.now() - t0) / 1000;
  await saveCountState(channelId, {
    through: { atMs: through, telegramMessageId: Number.MAX_SAFE_INTEGER },
    counted: size,
    firstTelegramMessageId: 1,
    lastTelegramMessageId: size,
    lastIngestedAt: ingestedAt,
    gaps: [],
  });
  await saveCountedIngestions(channelId, size);
  await client.execute('UPDATE telegram_ingest_counts SET ingested = ingested + ? WHERE channel_id = ?', [Long.fromNumber(size), channelId], { prepare: true });
  await client.execute(
    'UPDATE telegram_sync_state USING TIMESTAMP ? SET telegram_chat_id = ?, last_telegram_message_id = ?, last_ingested_at = ? WHERE channel_id = ?',
    [Long.fromNumber(ingestedAt.getTime() * 1000), Long.fromNumber(chatId), Long.fromNumber(size), ingestedAt, channelId],
    { prepare: true },
  );
  const inserts = 2 * size + buckets.length + behind.length;
  log(`  ${name}: ${size} messages (${inserts} inserts, ${buckets.length} index buckets) in ${round1(seedSeconds)} s`);
  return { name, channelId, chatId, size, nextId: size + 1, seedSeconds, insertsPerSecond: Math.round(inserts / seedSeconds) };
}

/** Ingests `count` new messages as the webhook's store calls do (claim, then the ingestion record). */
async function ingestNew(channel: Channel, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const id = channel.nextId++;
    const messageId = BigInt(2_000_000_000 + id);
    const { claimed } = await claimTelegramMessage(channel.chatId, id, { channelId: channel.channelId, bucket: 0, messageId });
    await recordIngestion(channel.channelId, channel.chatId, id, messageId, Date.now(), claimed);
  }
}

async function pass(channel: Channel): Promise<{ ms: number; statements: number; report: ChannelReport }> {
  const before = queryCounter.count;
  const t = performance.now();
  const report = await reconcileChannel(channel.channelId, channel.chatId, getConfig().telegram, Budget.fromRemaining(600_000, 0), getConfig().reconcilerSettleMs, { graceMs: 0 });
  return { ms: performance.now() - t, statements: queryCounter.count - before, report };
}

function summary(samples: { ms: number; statements: number }[]) {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const statements = samples.map((s) => s.statements).sort((a, b) => a - b);
  return { p50Ms: round1(percentile(ms, 50)), p95Ms: round1(percentile(ms, 95)), statements: { min: statements[0], max: statements[statements.length - 1] }, samples: ms.length };
}

const results: Record<string, unknown> = {
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: round1(totalmem() / 2 ** 30), node: process.version, store: stores.cql.kind },
  settings: { large: LARGE, largeIsFull1M: LARGE >= 1_000_000, rounds: ROUNDS, newPerPass: NEW_PER_PASS, seedConcurrency: CONCURRENCY, indexBucketSize: INDEX_BUCKET_SIZE, graceMs: 0 },
  startedAt: new Date().toISOString(),
};
try {
  log(`seeding 1 k and ${LARGE} bridged messages (mapping and index rows, ${CONCURRENCY} in flight)`);
  const channels = [await seedChannel('1k', 1_000), await seedChannel(LARGE >= 1_000_000 ? '1M' : `${LARGE}`, LARGE)];
  results.seed = Object.fromEntries(channels.map((c) => [c.name, { messages: c.size, seconds: round1(c.seedSeconds), insertsPerSecond: c.insertsPerSecond }]));
  const errors: string[] = [];
  const scenarios: Record<string, { ms: number; statements: number }[][]> = { idle: [[], []], after10New: [[], []] };
  // Warm-up: prepares every statement and settles each channel once.
  for (const channel of channels) for (let i = 0; i < 3; i++) await pass(channel);
  log(`${ROUNDS} interleaved rounds per scenario`);
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const k of order) {
      const idle = await pass(channels[k]!);
      if (idle.report.counted !== 0 || idle.report.repaired.length > 0) errors.push(`idle ${channels[k]!.name}: ${JSON.stringify(idle.report)}`);
      scenarios.idle![k]!.push(idle);
    }
    for (const k of order) await ingestNew(channels[k]!, NEW_PER_PASS);
    for (const k of order) {
      const busy = await pass(channels[k]!);
      if (busy.report.counted !== NEW_PER_PASS) errors.push(`after new ${channels[k]!.name}: ${JSON.stringify(busy.report)}`);
      scenarios.after10New![k]!.push(busy);
    }
  }
  const counts = await Promise.all(
    channels.map(async (c) => {
      const row = (await (await getScylla()).execute('SELECT ingested_count FROM telegram_sync_state WHERE channel_id = ?', [c.channelId], { prepare: true })).first();
      return { channel: c.name, ingestedCount: (row.get('ingested_count') as cassandra.types.Long).toNumber(), expected: c.nextId - 1 };
    }),
  );
  results.passes = Object.fromEntries(
    Object.entries(scenarios).map(([scenario, perChannel]) => [scenario, Object.fromEntries(channels.map((c, k) => [c.name, summary(perChannel[k]!)]))]),
  );
  results.exactCounts = counts;
  results.errors = errors.slice(0, 10);
  results.errorCount = errors.length;
  log(JSON.stringify(results.passes));
} finally {
  results.durationSeconds = Math.round((performance.now() - started) / 1000);
  const outDir = join(projectRoot, 'bench-results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'telegram-reconcile.json'), JSON.stringify(results, null, 2));
  console.log(JSON.stringify(results, null, 2));
  await closeScylla().catch(() => undefined);
  await closePostgres().catch(() => undefined);
  await dropNamespaces({ ...process.env }, (name) => name === namespace).catch(() => undefined);
  await stores.stop({ keepCql: process.env.KEEP_STORES === '1' });
}
