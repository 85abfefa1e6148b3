/**
 * `npm run bench`: measures the service against its floor (the Scylla statements each operation must send,
 * through the app's own client and pool: test/bench/operations.ts), at concurrency 8 as 8 processes, its
 * scale (dense against sparse channels), cold starts and bundles from the synthesised assembly (cdk.out),
 * and the feed, push, my-channels, throughput and memory sections. Every comparison is interleaved per sample
 * (A then B, the order flipping each round), ratios come with a 95 % bootstrap interval, and the A/A pair
 * (system.local against itself) is the noise floor. Prints a summary and writes
 * bench-results/{results.json,report.md,latency.svg}; `npm run bench:readme` puts results.json's figures in the
 * README. Never fails on a number: targets are compared, met or missed, in `figures`.
 *
 * BENCH_RUNS (3) × BENCH_SAMPLES (1000) per warm comparison; BENCH_QUICK=1 (1 × 200, short concurrency and
 * cold-start rounds, no 1 M-message channel: for development, not for figures); BENCH_SCALE=quick (skips the
 * 1 M-message channel); BENCH_C8_SECONDS (5 per operation); BENCH_ONLY=a,b (sections: warm, myChannels,
 * changes, push, antiPattern, concurrency8, throughput, scale, coldStart, memory; every section still gets the
 * common seed); BENCH_SYNTH=0 (reuse cdk.out instead of synthesising); BENCH_CDK_OUT (another assembly);
 * KEEP_STORES=1 (leave a node it started running).
 */
import { cpus, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getConfig } from '../../lib/config.js';
import { bucketOf, encodeSnowflake } from '../../lib/ids/snowflake.js';
import { STATEMENTS } from '../../lib/messages/store.js';
import { createScyllaClient, getScylla, writeConsistency } from '../../lib/scylla/client.js';
import { queryCounter } from '../../lib/scylla/execute.js';
import { toLong } from '../../lib/scylla/values.js';
import { projectRoot } from '../../infra/cdk/bundling.js';
import { measureBundles, measureColdStarts, measureMemory, synthesize } from './cold-start.js';
import { measureChanges } from './changes.js';
import { runConcurrency8 } from './concurrency-8.js';
import { Figures } from './figures.js';
import { measureHttpThroughput } from './http-load.js';
import { measureMyChannels } from './my-channels.js';
import { handlerOf, invoke, operations, seedFixture, statementCheck, type Operation, type OperationName } from './operations.js';
import { measurePush } from './push.js';
import { renderReport } from './report.js';
import { bootstrapRatio, errorTotal, interleave, loadAverage, mergeErrors, round, summarize, timeConcurrent, type ArmSamples, type Summary } from './stats.js';
import { benchStores } from './setup.js';

const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 3));
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? (QUICK ? 200 : 1000));
const SCALE_QUICK = QUICK || process.env.BENCH_SCALE === 'quick';
const C8_SECONDS = Number(process.env.BENCH_C8_SECONDS ?? (QUICK ? 2 : 5));
/** The older sections (feed, push, my channels) keep their own design; they get at most 300 samples a run. */
const SECTION_SAMPLES = Math.min(SAMPLES, 300);
const SECTIONS = ['warm', 'myChannels', 'changes', 'push', 'antiPattern', 'concurrency8', 'throughput', 'scale', 'coldStart', 'memory'] as const;
type Section = (typeof SECTIONS)[number];
const ONLY = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',').map((name) => name.trim()).filter(Boolean) : undefined;
const unknownSections = (ONLY ?? []).filter((name) => !(SECTIONS as readonly string[]).includes(name));
if (unknownSections.length > 0) throw new Error(`BENCH_ONLY: unknown section(s) ${unknownSections.join(', ')}; known: ${SECTIONS.join(', ')}`);
const selected = (section: Section) => !ONLY || ONLY.includes(section);
const outDir = join(projectRoot, 'bench-results');
const benchStarted = performance.now();
const elapsed = () => Math.round((performance.now() - benchStarted) / 1000);
const log = (line: string) => console.error(`bench [${elapsed()} s]: ${line}`);

/** The targets of the warm comparisons: handler p50 ≤ 1.3× and p99 ≤ 2× its floor. */
const WARM_P50_LIMIT = 1.3;
const WARM_P99_LIMIT = 2;
const C8_P99_LIMIT = 2;
const BUNDLE_LIMIT_KB = 450;
const LOAD_LIMIT_MS = 45;
const SPARSE_LIMIT = 1.5;

const WARM_OPS: OperationName[] = ['systemLocal', 'getMessage', 'listMessages', 'telegramMessage', 'createMessage', 'createWithNonce', 'createSpread', 'addReaction'];
const C8_OPS: OperationName[] = ['systemLocal', 'createMessage', 'getMessage', 'listMessages', 'telegramMessage', 'addReaction'];

const { stores, teardown } = await benchStores(log);
const figures = new Figures();
const results: Record<string, any> = {
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: round(totalmem() / 2 ** 30, 1), node: process.version, store: stores.cql.kind, loadAverage: { before: await loadAverage() } },
  settings: { runs: RUNS, samples: SAMPLES, quick: QUICK, scaleQuick: SCALE_QUICK, concurrency8Seconds: C8_SECONDS, only: ONLY ?? 'all' },
  startedAt: new Date().toISOString(),
  figures: figures.list,
};

/** Floor against handler of one operation: RUNS runs of SAMPLES interleaved rounds, after a warm-up. */
async function compare(op: Operation, samples: number, runs: number) {
  await interleave(Math.min(50, samples), [op.floor, op.handler]);
  const perRun: { floor: ArmSamples; handler: ArmSamples }[] = [];
  for (let run = 0; run < runs; run++) {
    const [floor, handler] = await interleave(samples, [op.floor, op.handler]);
    perRun.push({ floor: floor!, handler: handler! });
  }
  return paired(perRun);
}

/** Summaries, ratios with their bootstrap intervals, and errors of paired runs (round i of A with round i of B). */
function paired(perRun: { floor: ArmSamples; handler: ArmSamples }[]) {
  const floorAll = perRun.flatMap((r) => r.floor.latencies);
  const handlerAll = perRun.flatMap((r) => r.handler.latencies);
  const p50 = bootstrapRatio(floorAll, handlerAll, 50);
  const p99 = bootstrapRatio(floorAll, handlerAll, 99);
  const summaryOf = (which: 'floor' | 'handler'): Summary => summarize(perRun.map((r) => r[which].latencies));
  return {
    floor: summaryOf('floor'),
    handler: summaryOf('handler'),
    pooled: { floorP50: p50.a, floorP99: p99.a, handlerP50: p50.b, handlerP99: p99.b },
    ratioP50: p50.ratio,
    ratioP99: p99.ratio,
    ci95P50: p50.ci95,
    ci95P99: p99.ci95,
    perRunRatios: perRun.map((r) => ({ p50: bootstrapRatio(r.floor.latencies, r.handler.latencies, 50, 1).ratio, p99: bootstrapRatio(r.floor.latencies, r.handler.latencies, 99, 1).ratio })),
    errors: { floor: mergeErrors(perRun.map((r) => r.floor.errors)), handler: mergeErrors(perRun.map((r) => r.handler.errors)) },
    firstErrors: [...new Set(perRun.flatMap((r) => [...r.floor.firstErrors.map((e) => `floor: ${e}`), ...r.handler.firstErrors.map((e) => `handler: ${e}`)]))].slice(0, 4),
    samplesPerArm: floorAll.length,
  };
}

const errorWords = (errors: { floor: Record<string, number>; handler: Record<string, number> }) =>
  `errors handler ${errorTotal(errors.handler)}${errorTotal(errors.handler) ? ` ${JSON.stringify(errors.handler)}` : ''}, floor ${errorTotal(errors.floor)}${errorTotal(errors.floor) ? ` ${JSON.stringify(errors.floor)}` : ''} (failed calls' latencies kept)`;

try {
  const fixture = await seedFixture(QUICK ? 20 : 200);
  const ops = await operations(fixture);
  const channelId = fixture.channelId;
  const userId = fixture.userId;

  if (selected('warm')) {
    log(`warm: handler against its floor, interleaved per round, ${RUNS} × ${SAMPLES} rounds, on the app's client`);
    const warm: Record<string, unknown> = {};
    for (const name of WARM_OPS) {
      const op = ops[name];
      const check = name === 'systemLocal' ? undefined : await statementCheck(op, 10_000);
      if (check && !check.inSync) log(`  ${name}: FLOOR OUT OF STEP WITH THE HANDLER: ${check.problems.join(' | ')}`);
      const r = await compare(op, SAMPLES, RUNS);
      warm[name] = { ...r, floorIs: op.floorIs, statements: check };
      const conditions = `${RUNS} × ${r.samplesPerArm / RUNS} interleaved rounds, in-process on the app's client; floor: ${op.floorIs}; ${errorWords(r.errors)}${check && !check.inSync ? `; FLOOR OUT OF STEP: ${check.problems.join(' | ')}` : ''}`;
      if (name === 'systemLocal') {
        figures.add({ id: 'warm.noise.p50', name: 'noise floor (A/A): system.local against itself, p50 ratio', section: 'warm', value: r.pooled.handlerP50, unit: 'ms', ratio: r.ratioP50, ci95: r.ci95P50, conditions });
        figures.add({ id: 'warm.noise.p99', name: 'noise floor (A/A): system.local against itself, p99 ratio', section: 'warm', value: r.pooled.handlerP99, unit: 'ms', ratio: r.ratioP99, ci95: r.ci95P99, conditions });
      } else {
        figures.ratioTarget({ id: `warm.${name}.p50`, name: `${name}: handler p50 (floor ${round(r.pooled.floorP50)} ms)`, section: 'warm', value: r.pooled.handlerP50, unit: 'ms', ci95: r.ci95P50, conditions }, r.ratioP50, WARM_P50_LIMIT, `p50 ≤ ${WARM_P50_LIMIT}× floor`, r.ci95P50);
        figures.ratioTarget({ id: `warm.${name}.p99`, name: `${name}: handler p99 (floor ${round(r.pooled.floorP99)} ms)`, section: 'warm', value: r.pooled.handlerP99, unit: 'ms', ci95: r.ci95P99, conditions }, r.ratioP99, WARM_P99_LIMIT, `p99 ≤ ${WARM_P99_LIMIT}× floor`, r.ci95P99);
      }
      log(`  ${name}: floor p50 ${r.pooled.floorP50} / p99 ${r.pooled.floorP99} ms, handler p50 ${r.pooled.handlerP50} / p99 ${r.pooled.handlerP99} ms: ×${r.ratioP50} [${r.ci95P50.join(', ')}] / ×${r.ratioP99} [${r.ci95P99.join(', ')}]; ${errorWords(r.errors)}`);
    }
    results.warm = warm;
  }

  if (selected('myChannels')) {
    log('my channels: a user in 1,000 channels, a page of 50 with counts; the write cost of the ordering and its alternatives');
    const m = await measureMyChannels({ say: log, samples: SECTION_SAMPLES, runs: RUNS });
    results.myChannels = m;
    const worst = Math.max(m.firstPage.p99, m.randomPage.p99);
    figures.limitTarget({ id: 'myChannels.page.p99', name: `GET /channels: a user in ${m.channels} channels, page of 50 with counts, p99 (worse of first and any page)`, section: 'myChannels', value: round(worst), unit: 'ms', conditions: `${RUNS} runs × ${SECTION_SAMPLES}; first page p50 ${round(m.firstPage.p50)} ms, any page p50 ${round(m.randomPage.p50)} ms` }, m.targetP99Ms, `p99 ≤ ${m.targetP99Ms} ms`);
  }

  if (selected('changes')) {
    log("changes feed: a read of 100 changes against its two partition reads, and what the change record adds to a create (interleaved, on the app's client)");
    results.changes = await measureChanges({ say: log, samples: SECTION_SAMPLES, runs: RUNS, userId });
    const f = results.changes.feedRead;
    figures.add({ id: 'changes.feed.p50', name: 'list-changes (100 changes): handler p50 against its 2 partition reads', section: 'changes', value: round(f.handler.summary.p50), unit: 'ms', ratio: f.ratioP50, conditions: `${RUNS} runs × ${SECTION_SAMPLES}, interleaved on the app's client; noise (floor halves) ×${f.floorVsFloor.ratioP50}` });
    const c = results.changes.createCost;
    figures.add({ id: 'changes.createCost.p50', name: 'what the change record adds to the message write, p50 (logged batch against the bare INSERT)', section: 'changes', value: round(c.addedP50), unit: 'ms', ratio: c.ratioP50, conditions: `${RUNS} runs × ${SECTION_SAMPLES}, interleaved; noise (INSERT halves) ×${c.insertVsInsert.ratioP50}` });
  }

  if (selected('push')) {
    log('push: 1,000 WebSocket connections over 10 channels on the local server; REST ack → frame latency, and what publishing adds to a create');
    const p = await measurePush({ say: log, samples: SECTION_SAMPLES, runs: RUNS });
    results.push = p;
    const { latency: l, createCost: c } = p;
    figures.limitTarget({ id: 'push.frame.p99', name: `push: REST ack → frame, every frame, p99 (${p.setup.connections} local connections)`, section: 'push', value: round(l.perFrame.summary.p99), unit: 'ms', conditions: `${l.frames} frames of ${l.messages} messages; ${l.missingFrames} missing (counted as errors)` }, l.targetP99Ms, `p99 ≤ ${l.targetP99Ms} ms`);
    figures.limitTarget({ id: 'push.publishingAdds.p50', name: "push: what publishing adds to a create's p50 (local sink)", section: 'push', value: round(c.publishingAdds.p50), unit: 'ms', conditions: 'local in-process sink; EventBridge not measured' }, c.targetAddedP50Ms, `+≤ ${c.targetAddedP50Ms} ms`);
  }

  if (selected('antiPattern')) {
    log('anti-pattern: a client created and connected per invocation, interleaved with the warm get handler');
    const config = getConfig().scylla;
    const perInvocation = async (i: number) => {
      const client = await createScyllaClient(config, { keyspace: config.keyspace });
      await client.connect();
      const id = BigInt(fixture.created[i % fixture.created.length]!);
      await client.execute(STATEMENTS.getOne, [channelId, bucketOf(id), toLong(id)], { prepare: true });
      await client.shutdown();
    };
    const [fresh, warmGet] = await interleave(QUICK ? 10 : 40, [perInvocation, ops.getMessage.handler]);
    const ratio = bootstrapRatio(warmGet!.latencies, fresh!.latencies, 50);
    results.antiPattern = { perInvocationGet: summarize([fresh!.latencies]), warmGet: summarize([warmGet!.latencies]), ratioP50: ratio.ratio, ci95P50: ratio.ci95, errors: { perInvocation: fresh!.errors, warm: warmGet!.errors } };
    figures.ratioTarget({ id: 'antiPattern.p50', name: 'connect per invocation (connect + get + shutdown) against a warm get handler, p50', section: 'antiPattern', value: ratio.b, unit: 'ms', ci95: ratio.ci95, conditions: `${fresh!.latencies.length} interleaved rounds, the app's client options` }, ratio.ratio, 10, '≥ 10× a warm call', ratio.ci95, true);
  }

  if (selected('concurrency8')) {
    log(`concurrency 8: 8 worker processes (each its own client and pool), handler and floor alternating, ${C8_SECONDS} s per operation`);
    const { workers, startErrors } = await runConcurrency8(fixture, C8_OPS, C8_SECONDS);
    const c8: Record<string, unknown> = {};
    for (const name of C8_OPS) {
      const perWorker = workers.map((w) => w.perOp[name]).filter((x) => x !== undefined);
      const r = paired(perWorker.map((w) => ({ floor: w.floor, handler: w.handler })));
      const handlerCalls = perWorker.reduce((n, w) => n + w.handler.latencies.length, 0);
      c8[name] = { ...r, processes: workers.length, handlerPerSecond: round(handlerCalls / C8_SECONDS, 0), floorIs: ops[name].floorIs };
      const conditions = `${workers.length} processes × 1 call at a time for ${C8_SECONDS} s, handler and floor alternating (${r.samplesPerArm} calls per arm); floor: ${ops[name].floorIs}; ${errorWords(r.errors)}${startErrors.length ? `; worker failures: ${startErrors.join(' | ')}` : ''}`;
      if (name === 'systemLocal') figures.add({ id: 'c8.noise.p99', name: 'concurrency 8, noise floor (A/A): system.local against itself, p99 ratio', section: 'concurrency8', value: r.pooled.handlerP99, unit: 'ms', ratio: r.ratioP99, ci95: r.ci95P99, conditions });
      else figures.ratioTarget({ id: `c8.${name}.p99`, name: `${name} at concurrency 8: handler p99 (floor ${round(r.pooled.floorP99)} ms)`, section: 'concurrency8', value: r.pooled.handlerP99, unit: 'ms', ci95: r.ci95P99, conditions }, r.ratioP99, C8_P99_LIMIT, `p99 ≤ ${C8_P99_LIMIT}× floor at concurrency 8`, r.ci95P99);
      figures.limitTarget({ id: `c8.${name}.errors`, name: `${name} at concurrency 8: failed calls (handler + floor)`, section: 'concurrency8', value: errorTotal(r.errors.handler) + errorTotal(r.errors.floor), unit: 'count', conditions: JSON.stringify(r.errors) }, 0, 'none');
      log(`  ${name}: handler p99 ${r.pooled.handlerP99} ms, floor p99 ${r.pooled.floorP99} ms (×${r.ratioP99} [${r.ci95P99.join(', ')}]); ${errorWords(r.errors)}`);
    }
    results.concurrency8 = { perOp: c8, startErrors };
  }

  if (selected('throughput')) {
    log('throughput: creates through the handlers, in-process');
    const throughput: Record<string, { perSecond: number; p99: number; errors: number }> = {};
    for (const concurrency of [1, 8, 32, 64]) {
      const result = await timeConcurrent(concurrency, QUICK ? 1500 : 4000, ops.createMessage.handler);
      throughput[concurrency] = { perSecond: round(result.perSecond, 0), p99: round(summarize([result.samples]).p99), errors: result.errors };
    }
    results.throughputHandlers = throughput;
    results.throughputHttp = await measureHttpThroughput(channelId, userId, log);
  }

  if (selected('scale')) {
    log('scale: dense against sparse channels, a page of 50, interleaved per round on the app\'s client');
    results.scale = await measureScale(log);
  }

  if (selected('coldStart')) {
    log('cold starts and bundles, from the synthesised assembly');
    const synthMs = await synthesize(log);
    const local = { ...process.env, LOG_LEVEL: 'ERROR' } as Record<string, string>;
    const bundles = await measureBundles(log, local, QUICK ? 2 : 5);
    const coldStarts = await measureColdStarts(log, local, { channelId, messageId: fixture.created[0]!, userId, telegramChatId: fixture.telegramChatId }, QUICK ? 2 : 5);
    results.coldStart = { synthMs, ...bundles, coldStarts };
    for (const [name, f] of Object.entries(bundles.perFunction)) {
      figures.limitTarget({ id: `bundle.${name}`, name: `${name}: bundle, all its JavaScript (entry and chunks, no source maps)`, section: 'bundles', value: f.bundleKb, unit: 'KB', conditions: `${f.bundleDir}: ${f.jsFiles} file(s), entry index.mjs ${f.entryKb} KB` }, BUNDLE_LIMIT_KB, `≤ ${BUNDLE_LIMIT_KB} KB`);
      if (f.usesScylla) figures.limitTarget({ id: `load.${name}`, name: `${name}: module load in a fresh process (import only)`, section: 'loads', value: f.loadMs, unit: 'ms', conditions: `median of ${bundles.loadsPerFunction} fresh processes (${f.loadMsRuns.join(', ')} ms); the template's environment less AWS bindings${f.loadErrors ? `; ${f.loadErrors} failed: ${f.loadError}` : ''}` }, LOAD_LIMIT_MS, `≤ ${LOAD_LIMIT_MS} ms`);
      else figures.add({ id: `load.${name}`, name: `${name}: module load in a fresh process (import only, no Scylla)`, section: 'loads', value: f.loadMs, unit: 'ms', conditions: `median of ${bundles.loadsPerFunction} fresh processes${f.loadErrors ? `; ${f.loadErrors} failed: ${f.loadError}` : ''}` });
    }
    for (const [kind, c] of Object.entries(coldStarts)) {
      figures.add({ id: `cold.${c.function}`, name: `cold start, ${kind}: process start → import → first answer`, section: 'coldStart', value: c.wallMs, unit: 'ms', conditions: `median of ${c.runs} fresh processes (${c.wallMsRuns.join(', ')} ms) from ${bundles.outDir}; node boot ${c.bootMs} ms, import ${c.importMs} ms, first call (connects included) ${c.firstCallMs} ms; errors ${c.errors}${c.firstError ? `: ${c.firstError.slice(0, 200)}` : ''}` });
    }
  }

  if (selected('memory')) {
    log('memory under sustained load, from the synthesised assembly');
    const memory = await measureMemory(log, { ...process.env } as Record<string, string>, { channelId, userId });
    results.memory = memory;
    for (const [name, m] of Object.entries(memory)) figures.limitTarget({ id: `memory.${name}`, name: `${name}: peak RSS, 8 concurrent callers in one process for 15 s`, section: 'memory', value: m.peakRssMb, unit: 'MB', conditions: `${m.requests} requests, ${m.errors} errors; heap at the end ${m.heapUsedMb} MB` }, 160, '≤ 160 MB');
  }
} catch (error) {
  // A section that throws ends the run; what ran before it is still written, and the failure with it.
  results.failed = (error as Error).stack ?? String(error);
  throw error;
} finally {
  results.machine.loadAverage.after = await loadAverage();
  results.finishedAt = new Date().toISOString();
  results.durationSeconds = elapsed();
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'results.json'), JSON.stringify(results, null, 2));
  const { markdown, svg } = renderReport(results);
  writeFileSync(join(outDir, 'report.md'), markdown);
  writeFileSync(join(outDir, 'latency.svg'), svg);
  console.log(markdown);
  await teardown();
}

/**
 * Channels of growing size, dense and sparse, seeded straight into Scylla through the app's client; then a
 * page of 50 at 40 points of each, the shapes interleaved per round (every round one page of each shape, the
 * order cycling), so dense and sparse see the same moments. The sparse-page target compares each sparse shape
 * with the dense 100 k channel.
 */
async function measureScale(say: (line: string) => void) {
  const listMessages = await handlerOf('list-messages');
  const createChannel = await handlerOf('create-channel');
  const userId = '0b6a3b7e-6c1d-4f5e-8a9b-1c2d3e4f5a6b';
  const claims = { sub: userId };
  const YEAR = 365 * 86_400_000;
  const end = Date.now() - 86_400_000;
  const shapes = [
    { name: 'dense 1k', dense: true, count: 1_000, span: 1_000 * 60_000 },
    { name: 'dense 100k', dense: true, count: 100_000, span: YEAR / 4 },
    ...(SCALE_QUICK ? [] : [{ name: 'dense 1M', dense: true, count: 1_000_000, span: YEAR }]),
    { name: 'sparse 1k, bursts over 2 years', dense: false, count: 1_000, span: 2 * YEAR, clustered: true },
    { name: 'sparse 90, one per bucket', dense: false, count: 90, span: 990 * 86_400_000, gapDays: 11 },
    { name: 'sparse 30, a month apart', dense: false, count: 30, span: 900 * 86_400_000, gapDays: 30 },
  ];
  const seeded: { name: string; dense: boolean; channelId: string; ids: bigint[]; queries: number[] }[] = [];
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
    await seedRows(channel.id, userId, ids);
    say(`  ${shape.name}: seeded ${shape.count} in ${round((performance.now() - started) / 1000, 1)} s`);
    seeded.push({ name: shape.name, dense: shape.dense, channelId: channel.id, ids, queries: [] });
  }
  const page = (s: (typeof seeded)[number]) => {
    const anchors = Array.from({ length: 40 }, (_, i) => s.ids[Math.floor(((i + 1) / 41) * s.ids.length)]!);
    return async (i: number) => {
      const before = queryCounter.count;
      await invoke(listMessages, { method: 'GET', route: '/channels/{channel_id}/messages', params: { channel_id: s.channelId }, query: { limit: '50', before: String(anchors[i % anchors.length]) }, claims }, 200);
      s.queries.push(queryCounter.count - before);
    };
  };
  const arms = seeded.map(page);
  const rounds = Number(process.env.BENCH_SCALE_SAMPLES ?? (QUICK ? 60 : 400));
  await interleave(Math.min(20, rounds), arms);
  const samples = await interleave(rounds, arms);
  const reference = seeded.findIndex((s) => s.name === 'dense 100k');
  const out: Record<string, unknown> = {};
  for (const [k, s] of seeded.entries()) {
    const vsDense = bootstrapRatio(samples[reference]!.latencies, samples[k]!.latencies, 50);
    const vsDenseP99 = bootstrapRatio(samples[reference]!.latencies, samples[k]!.latencies, 99);
    const sorted = [...s.queries].sort((a, b) => a - b);
    out[s.name] = { messages: s.ids.length, buckets: new Set(s.ids.map(bucketOf)).size, page: summarize([samples[k]!.latencies]), vsDense100k: { p50: vsDense, p99: vsDenseP99 }, errors: samples[k]!.errors, queriesPerPage: { min: sorted[0], max: sorted[sorted.length - 1], median: sorted[Math.floor(sorted.length / 2)] } };
    const conditions = `${rounds} interleaved rounds of every shape (one page of 50 each), at 40 points of the channel; ${s.ids.length} messages in ${new Set(s.ids.map(bucketOf)).size} buckets; ${sorted[0]}–${sorted[sorted.length - 1]} statements per page; errors ${errorTotal(samples[k]!.errors)}`;
    if (k === reference) figures.add({ id: 'scale.dense100k.p50', name: 'page of 50, dense 100 k channel (the reference), p50', section: 'scale', value: vsDense.b, unit: 'ms', conditions });
    else if (s.dense) figures.add({ id: `scale.${s.name.replace(/\W+/g, '')}.p50`, name: `page of 50, ${s.name}, p50 against dense 100 k`, section: 'scale', value: vsDense.b, unit: 'ms', ratio: vsDense.ratio, ci95: vsDense.ci95, conditions });
    else figures.ratioTarget({ id: `scale.${s.name.replace(/\W+/g, '')}.p50`, name: `page of 50, ${s.name}, p50 (dense 100 k: ${vsDense.a} ms)`, section: 'scale', value: vsDense.b, unit: 'ms', ci95: vsDense.ci95, conditions }, vsDense.ratio, SPARSE_LIMIT, `≤ ${SPARSE_LIMIT}× a dense page`, vsDense.ci95);
  }
  return out;
}

/** Writes messages and their bucket index straight to Scylla in per-partition batches, on the app's client. */
async function seedRows(channelId: string, authorId: string, ids: bigint[]): Promise<void> {
  const client = await getScylla();
  const byBucket = new Map<number, bigint[]>();
  for (const id of ids) {
    const bucket = bucketOf(id);
    const list = byBucket.get(bucket);
    if (list) list.push(id);
    else byBucket.set(bucket, [id]);
  }
  const batches: { query: string; params: unknown[] }[][] = [];
  for (const [bucket, bucketIds] of byBucket) {
    await client.execute(STATEMENTS.indexBucket, [channelId, bucket], { prepare: true, consistency: writeConsistency() });
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
        await client.batch(batch, { prepare: true, logged: false, consistency: writeConsistency() });
      }
    }),
  );
}
