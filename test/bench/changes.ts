/**
 * The changes feed in the bench:
 *
 *   feed read    GET /channels/{id}/changes?limit=100 with an `after` cursor just before 100 changes (real
 *                message creates through the handler, read once the settle window has passed), against its
 *                floor: the two partition reads the reader sends for that day (the everyone-partition and the
 *                caller's own), the same prepared statement at the same consistency (LOCAL_QUORUM), side by
 *                side as the reader sends them, returning the same 100 rows.
 *   create cost  what the change record adds to a message create: the bare INSERT of the message row against
 *                the logged batch of the message row and its `message.created` change row (the write a create
 *                sends), same prepared statements as lib/messages/store.ts and lib/changes/store.ts; and the
 *                create-message handler end to end as a third arm beside them.
 *
 * The arms of each comparison are interleaved (one sample of each per round, the rounds cycling through every
 * order of the arms), on the app's own client (getScylla()), so they see the same moments of this shared
 * machine. Noise is reported two ways: the spread of each run's percentiles, and an A/A split of the floor
 * (and of the bare INSERT): two halves of alternate blocks of rounds.
 *
 * Part of `npm run bench` (BENCH_ONLY=changes runs it alone with the bench's seed);
 * `node --import tsx test/bench/changes.ts` runs it on its own too.
 */
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import cassandra from 'cassandra-driver';
import { loadConfig } from '../../lib/config.js';
import { getChatAccess } from '../../lib/channels/chat-store.js';
import { EVERYONE, changeDay, decodeCursor, type ChangeRecord } from '../../lib/changes/model.js';
import { changeStatement } from '../../lib/changes/store.js';
import { bucketOf, encodeSnowflake, MAX_SEQUENCE, MAX_WORKER_ID } from '../../lib/ids/snowflake.js';
import { toMessageView, type MessageRecord } from '../../lib/messages/model.js';
import { STATEMENTS } from '../../lib/messages/store.js';
import { closePostgres } from '../../lib/postgres/pool.js';
import { closeScylla, getScylla, writeConsistency } from '../../lib/scylla/client.js';
import { queryCounter } from '../../lib/scylla/execute.js';
import { toLong } from '../../lib/scylla/values.js';
import { settleMs } from '../../lib/use-cases/changes.js';
import { migrateAll } from '../../lib/use-cases/migrations.js';
import { projectRoot } from '../../infra/cdk/bundling.js';
import { startLocalStores } from '../../infra/local/stores.js';
import { apigwEvent, lambdaContext, type EventInput } from '../support/apigw.js';
import { dropNamespaces, uniqueName } from '../support/namespaces.js';
import { ordersOf, perRunPercentiles, round, splitHalves, summarize, timeInterleaved, type Summary } from './stats.js';

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode?: number; body?: string }>;
const handlerOf = async (name: string) => ((await import(`../../functions/${name}.ts`)) as { handler: Handler }).handler;

async function invoke(handler: Handler, input: EventInput, expected: number): Promise<any> {
  const result = await handler(apigwEvent(input), lambdaContext());
  if (result.statusCode !== expected) throw new Error(`${input.method} ${input.route}: ${result.statusCode} ${result.body}`);
  return result.body ? JSON.parse(result.body) : undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The feed's page statement, taken from lib/changes/store.ts itself (it is not exported), so the floor is the
 * statement the reader prepares, not a copy that could drift from it.
 */
function feedPageStatement(): string {
  const source = readFileSync(join(projectRoot, 'lib', 'changes', 'store.ts'), 'utf8');
  const match = /const PAGE =\s*'([^']+)'/.exec(source);
  if (!match) throw new Error('lib/changes/store.ts: no PAGE statement found; the feed floor needs updating');
  return match[1]!;
}

/** The reader's head at `unixMs`: the highest position stamped `settle` before it (as listChanges computes it). */
const headAt = (unixMs: number) => encodeSnowflake(unixMs - settleMs(), MAX_WORKER_ID, MAX_SEQUENCE);

export interface Arm {
  summary: Summary;
  perRun: { p50: number; p99: number }[];
  errors: number;
}

export interface Paired {
  floor: Arm;
  handler: Arm;
  ratioP50: number;
  ratioP99: number;
  /** A/A: the floor's samples in two halves of alternate blocks of rounds (each half every arm order alike). */
  floorVsFloor: { ratioP50: number; ratioP99: number };
  /** Each run's handler p50 over its floor p50. */
  ratioP50PerRun: number[];
  firstErrors: string[];
}

export interface ChangesResult {
  feedRead: Paired & {
    changes: number;
    limit: number;
    /** What one handler call and one floor call returned before timing, and whether they agree. */
    check: { handlerChanges: number; handlerTypes: string[]; hasMore: boolean; floorRows: number; sameIds: boolean; days: number };
    scyllaStatementsPerRead: { min: number; max: number };
    settleMs: number;
    /** Context: the member check (PostgreSQL) the handler makes first, then the floor's two reads. */
    floorWithMemberCheck: Arm;
  };
  createCost: {
    insert: Arm;
    batchWithChange: Arm;
    /** batch − insert, from the summaries; and per run (p50). */
    addedP50: number;
    addedP99: number;
    addedP50PerRun: number[];
    ratioP50: number;
    ratioP99: number;
    insertVsInsert: { ratioP50: number; ratioP99: number };
    handler: Arm;
    changeBodyBytes: number;
    firstErrors: string[];
  };
  loadAverage: { before: number[]; after: number[] };
}

/** Runs `runs` × `samples` interleaved rounds (after a discarded warm-up) and summarises every arm. */
async function interleaved(
  arms: readonly ((i: number) => Promise<unknown>)[],
  samples: number,
  runs: number,
  check?: (arm: number, result: unknown) => string | undefined,
): Promise<{ arms: Arm[]; runs: number[][][]; firstErrors: string[] }> {
  const warm = await timeInterleaved(Math.min(50, samples), arms, check);
  const perArm: number[][][] = arms.map(() => []);
  const errors = arms.map(() => 0);
  const firstErrors = warm.firstErrors.map((e) => `warm-up ${e}`);
  for (let run = 0; run < runs; run++) {
    const result = await timeInterleaved(samples, arms, check);
    result.samples.forEach((s, k) => perArm[k]!.push(s));
    result.errors.forEach((n, k) => (errors[k]! += n));
    firstErrors.push(...result.firstErrors.map((e) => `run ${run + 1} ${e}`));
  }
  // Warm-up errors count too: an error is an error, whenever it happened.
  warm.errors.forEach((n, k) => (errors[k]! += n));
  return {
    arms: perArm.map((r, k) => ({ summary: summarize(r), perRun: perRunPercentiles(r), errors: errors[k]! })),
    runs: perArm,
    firstErrors: firstErrors.slice(0, 10),
  };
}

export async function measureChanges(options: { samples?: number; runs?: number; say?: (line: string) => void; userId?: string } = {}): Promise<ChangesResult> {
  const samples = options.samples ?? 300;
  const runs = options.runs ?? 3;
  const say = options.say ?? (() => undefined);
  const userId = options.userId ?? '5f0d8a4e-2b6c-4c1e-9d3a-7e8f9a0b1c2d';
  const claims = { sub: userId };
  const loadBefore = loadavg().map((v) => round(v));
  const h = {
    createChannel: await handlerOf('create-channel'),
    createMessage: await handlerOf('create-message'),
    listChanges: await handlerOf('list-changes'),
  };
  const client = await getScylla();
  const quorum = writeConsistency();
  const LIMIT = 100;
  const CHANGES = 100;

  // --- Feed read: a channel whose feed holds exactly CHANGES changes after the cursor. ---------------------
  const feedChannel = (await invoke(h.createChannel, { method: 'POST', route: '/channels', claims, body: { name: 'bench changes feed' } }, 201)).id as string;
  // Whatever creating the channel recorded falls behind the head once the settle window has passed; the head
  // cursor then stands just before the messages created next.
  await sleep(settleMs() + 100);
  const list = (after?: string) =>
    invoke(h.listChanges, { method: 'GET', route: '/channels/{channel_id}/changes', params: { channel_id: feedChannel }, query: after ? { limit: String(LIMIT), after } : { limit: String(LIMIT) }, claims }, 200);
  const cursor = (await list()).next_cursor as string;
  const after = decodeCursor(cursor)!;
  for (let i = 0; i < CHANGES; i++) {
    await invoke(h.createMessage, { method: 'POST', route: '/channels/{channel_id}/messages', params: { channel_id: feedChannel }, claims, body: { content: `feed ${i}: a message of ordinary length about deployments` } }, 201);
  }
  await sleep(settleMs() + 100);
  say(`  feed: ${CHANGES} messages created in channel ${feedChannel}, cursor ${cursor}; settle ${settleMs()} ms waited`);

  const PAGE = feedPageStatement();
  const readOptions = { prepare: true, consistency: quorum, isIdempotent: true, fetchSize: 0 };
  const floorRead = async () => {
    const upTo = headAt(Date.now());
    const days: number[] = [];
    for (let day = changeDay(after); day <= changeDay(upTo); day++) days.push(day);
    const results = await Promise.all(
      days.flatMap((day) => [
        client.execute(PAGE, [feedChannel, day, EVERYONE, toLong(after), toLong(upTo), LIMIT + 1], readOptions),
        client.execute(PAGE, [feedChannel, day, userId, toLong(after), toLong(upTo), LIMIT + 1], readOptions),
      ]),
    );
    return results.flatMap((result) => result.rows);
  };

  const firstPage = await list(cursor);
  const firstFloor = await floorRead();
  const handlerIds = (firstPage.changes as { cursor: string }[]).map((change) => decodeCursor(change.cursor)!.toString());
  const floorIds = firstFloor.map((row) => (row.get('change_id') as cassandra.types.Long).toString());
  const check = {
    handlerChanges: handlerIds.length,
    handlerTypes: [...new Set((firstPage.changes as { type: string }[]).map((change) => change.type))],
    hasMore: firstPage.has_more as boolean,
    floorRows: floorIds.length,
    sameIds: handlerIds.length === floorIds.length && handlerIds.every((id, i) => id === floorIds[i]),
    days: changeDay(headAt(Date.now())) - changeDay(after) + 1,
  };
  say(`  feed check: handler ${check.handlerChanges} changes (${check.handlerTypes.join(', ')}, has_more ${check.hasMore}), floor ${check.floorRows} rows, same ids ${check.sameIds}, ${check.days} day(s)`);

  const statements: number[] = [];
  const feed = await interleaved(
    [
      () => floorRead(),
      // Context, not the floor: the member check every channel route makes first (one PostgreSQL primary-key
      // query, lib/channels/chat-store.ts getChatAccess), then the same two reads.
      async () => {
        await getChatAccess(feedChannel, userId);
        return floorRead();
      },
      async () => {
        const before = queryCounter.count;
        const page = await list(cursor);
        statements.push(queryCounter.count - before);
        return page;
      },
    ],
    samples,
    runs,
    (arm, result) => {
      const got = arm === 2 ? (result as { changes: unknown[] }).changes.length : (result as unknown[]).length;
      return got === CHANGES ? undefined : `${['floor', 'floor with member check', 'handler'][arm]} returned ${got} changes, expected ${CHANGES}`;
    },
  );
  const [floor, floorWithMemberCheck, handler] = feed.arms as [Arm, Arm, Arm];
  const floorHalves = splitHalves(feed.runs[0]!, ordersOf(3));
  const feedRead: ChangesResult['feedRead'] = {
    changes: CHANGES,
    limit: LIMIT,
    check,
    scyllaStatementsPerRead: { min: Math.min(...statements), max: Math.max(...statements) },
    settleMs: settleMs(),
    floor,
    floorWithMemberCheck,
    handler,
    ratioP50: round(handler.summary.p50 / floor.summary.p50),
    ratioP99: round(handler.summary.p99 / floor.summary.p99),
    floorVsFloor: { ratioP50: floorHalves.ratioP50, ratioP99: floorHalves.ratioP99 },
    ratioP50PerRun: handler.perRun.map((r, i) => round(r.p50 / floor.perRun[i]!.p50)),
    firstErrors: feed.firstErrors,
  };
  say(`  feed read of ${CHANGES}: floor p50 ${round(floor.summary.p50)} / p99 ${round(floor.summary.p99)} ms, handler p50 ${round(handler.summary.p50)} / p99 ${round(handler.summary.p99)} ms (×${feedRead.ratioP50}, ×${feedRead.ratioP99}); floor with member check p50 ${round(floorWithMemberCheck.summary.p50)} / p99 ${round(floorWithMemberCheck.summary.p99)} ms; floor A/A ×${floorHalves.ratioP50} / ×${floorHalves.ratioP99}; errors floor ${floor.errors}, handler ${handler.errors}`);

  // --- Create cost: the message row alone, against the row and its change in one logged batch. -------------
  const createChannel = (await invoke(h.createChannel, { method: 'POST', route: '/channels', claims, body: { name: 'bench changes create' } }, 201)).id as string;
  let sequence = 0;
  const message = (workerId: number): MessageRecord => ({
    channelId: createChannel,
    id: encodeSnowflake(Date.now(), workerId, sequence++ % (MAX_SEQUENCE + 1)),
    authorId: userId,
    content: 'raw create: a message of ordinary length about deployments',
    editedAt: null,
    replyToId: null,
    source: 'app',
    telegram: null,
    deleted: false,
  });
  const { unset } = cassandra.types;
  // The parameters insertMessage binds for an app message without reply, Telegram ids, mentions or attachments.
  const insertParams = (m: MessageRecord) => [m.channelId, bucketOf(m.id), toLong(m.id), m.authorId, m.content, unset, m.source, unset, unset, unset, unset, unset, unset];
  const changeOf = (m: MessageRecord): ChangeRecord => ({ channelId: m.channelId, type: 'message.created', audience: EVERYONE, body: { message: toMessageView(m) }, id: m.id });
  const writeOptions = { prepare: true, consistency: quorum, isIdempotent: true };
  const changeBodyBytes = Buffer.byteLength(String(changeStatement(changeOf(message(994))).params[5]));
  // The handler end to end is the third arm, on the same channel: its samples share the raw arms' moments.
  // Rounds cycle through every order of the three, so neither raw arm always follows the handler's work.
  const create = await interleaved(
    [
      () => client.execute(STATEMENTS.insert, insertParams(message(996)), writeOptions),
      () => {
        const m = message(995);
        return client.batch([{ query: STATEMENTS.insert, params: insertParams(m) }, changeStatement(changeOf(m))], { ...writeOptions, logged: true });
      },
      (i) => invoke(h.createMessage, { method: 'POST', route: '/channels/{channel_id}/messages', params: { channel_id: createChannel }, claims, body: { content: `handler create ${i}: a message of ordinary length about deployments` } }, 201),
    ],
    samples,
    runs,
  );
  const [insert, batchWithChange, createHandler] = create.arms as [Arm, Arm, Arm];
  const insertHalves = splitHalves(create.runs[0]!, ordersOf(3));
  say(`  create: INSERT p50 ${round(insert.summary.p50)} / p99 ${round(insert.summary.p99)} ms, logged batch with the change p50 ${round(batchWithChange.summary.p50)} / p99 ${round(batchWithChange.summary.p99)} ms, handler p50 ${round(createHandler.summary.p50)} / p99 ${round(createHandler.summary.p99)} ms; INSERT A/A ×${insertHalves.ratioP50} / ×${insertHalves.ratioP99}; errors ${insert.errors} / ${batchWithChange.errors} / ${createHandler.errors}`);

  return {
    feedRead,
    createCost: {
      insert,
      batchWithChange,
      addedP50: round(batchWithChange.summary.p50 - insert.summary.p50, 3),
      addedP99: round(batchWithChange.summary.p99 - insert.summary.p99, 3),
      addedP50PerRun: batchWithChange.perRun.map((r, i) => round(r.p50 - insert.perRun[i]!.p50, 3)),
      ratioP50: round(batchWithChange.summary.p50 / insert.summary.p50),
      ratioP99: round(batchWithChange.summary.p99 / insert.summary.p99),
      insertVsInsert: { ratioP50: insertHalves.ratioP50, ratioP99: insertHalves.ratioP99 },
      handler: createHandler,
      changeBodyBytes,
      firstErrors: create.firstErrors,
    },
    loadAverage: { before: loadBefore, after: loadavg().map((v) => round(v)) },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const log = (line: string) => console.error(`bench: ${line}`);
  const stores = await startLocalStores({ log });
  const namespace = uniqueName('bench');
  Object.assign(process.env, stores.env, { SCYLLA_KEYSPACE: namespace, DATABASE_SCHEMA: namespace, LOG_LEVEL: 'ERROR', RATE_LIMIT_WRITES: '1000000', RATE_LIMIT_READS: '1000000' });
  await migrateAll(loadConfig(), () => undefined);
  try {
    console.log(JSON.stringify(await measureChanges({ say: log, samples: Number(process.env.BENCH_SAMPLES ?? 300), runs: Number(process.env.BENCH_RUNS ?? 3) }), null, 2));
  } finally {
    await closeScylla().catch(() => undefined);
    await closePostgres().catch(() => undefined);
    await dropNamespaces({ ...process.env }, (name) => name === namespace).catch(() => undefined);
    await stores.stop({ keepCql: process.env.KEEP_STORES === '1' });
  }
}
