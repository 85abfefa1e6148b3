/**
 * Real-time push in the bench (BENCH_ONLY=push):
 *
 *   push latency   The local server (infra/local/server.ts, in this process) with 1,000 WebSocket connections
 *                  over 10 channels (100 per channel: 25 members × 4 connections; clients in a worker thread,
 *                  test/bench/push-clients.ts). Messages are created one at a time over HTTP (POST
 *                  /channels/{id}/messages), rotating the 10 channels; each frame's latency is its arrival at a
 *                  client minus the arrival of the REST response (the ack) at the caller, and the message's
 *                  latency to the last of its 100 connections is reported too. Frames are matched by the
 *                  message id in the change; a frame not received within the timeout is an error, never dropped.
 *                  The next create starts only once every frame of the previous one is in (or timed out).
 *   create cost    What publishing adds to a create. The local sink (set by the local server) hands a change to
 *                  an in-process fan-out and returns at once, so locally a create pays only for the fan-out's
 *                  work running beside it on the same cores. The server's sink cannot be set again once replaced
 *                  (lib/use-cases/publish.ts exports no getter; attachWebSockets keeps its sink and its sockets
 *                  private), so "on with 100 listeners" and "off" cannot be interleaved; the comparison is made of
 *                  two interleaved parts, each in its own block:
 *                    block 1 (the server's sink), per round: (A) a create in a channel with 100 listeners, its
 *                      frames awaited before the next call (these are the push-latency samples), and (B) a create
 *                      in an 11th channel nobody listens to (published; the fan-out finds no connection). A − B:
 *                      what delivering 100 frames, beside and after the create, adds to it.
 *                    block 2 (the server's sink gone; the sink set before each call), per round: (C) a create in a
 *                      listened channel and (D) one in the 11th channel, both with no sink (nothing published),
 *                      and (E) one in the 11th channel whose sink is the server's minus its sockets: the same
 *                      fanOut on the same registry, started without waiting (it finds no connection), and (F) one
 *                      in the 11th channel with a sink that does nothing. E − D: what publishing itself adds,
 *                      interleaved on against off; F − D: handing the change over alone.
 *                  (A − B) + (E − D) is what publishing adds to a create in a channel with 100 listeners. A − C
 *                  and B − D cross the blocks (block drift included) and are given for reference. Noise: B and D
 *                  each against itself (two halves of alternate blocks of rounds), and each run's percentiles.
 *
 * The AWS sink, EventBridge PutEvents, is not measured here (no AWS): the code bounds it to PUBLISH_TIMEOUT_MS,
 * awaited only at the end of the invocation, beside the request's remaining work.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { mintToken } from '../../infra/local/jwt.js';
import { startApiServer } from '../../infra/local/server.js';
import { WEBSOCKET_PATH } from '../../infra/local/websocket.js';
import { fanOutFunction } from '../../functions/routes.js';
import { PUBLISH_TIMEOUT_MS, useChangeSink, type ChangeSink } from '../../lib/use-cases/publish.js';
import { fanOut } from '../../lib/use-cases/push.js';
import { getRedis } from '../../lib/redis/client.js';
import type { FromClients, ToClients } from './push-clients.js';
import { ordersOf, permutations, perRunPercentiles, round, splitHalves, summarize, type Summary } from './stats.js';

const CHANNELS = 10;
const MEMBERS_PER_CHANNEL = 25;
const CONNECTIONS_PER_MEMBER = 4;
const PER_CHANNEL = MEMBERS_PER_CHANNEL * CONNECTIONS_PER_MEMBER;
const TARGET_P99_MS = 100;
const TARGET_CREATE_ADDED_P50_MS = 0.5;

const now = () => performance.timeOrigin + performance.now();

export interface Arm {
  summary: Summary;
  perRun: { p50: number; p99: number }[];
  errors: number;
}

export interface PushResult {
  setup: { channels: number; connections: number; perChannel: number; members: number; connectionsPerMember: number; subscribed: number; openMs: number; failures: string[]; fanOutConcurrency: number; clients: string };
  latency: {
    /** Every frame: its arrival minus the ack (negative: the frame came before the REST response). */
    perFrame: Arm;
    /** Per message: the arrival at the last of its 100 connections minus the ack. */
    lastOfChannel: Arm;
    messages: number;
    frames: number;
    framesBeforeAck: number;
    /** Frames not received within the timeout (each an error), and the messages missing at least one. */
    missingFrames: number;
    incompleteMessages: number;
    duplicates: number;
    timeoutMs: number;
    targetP99Ms: number;
  };
  createCost: {
    block1: { listened: Arm; unlistened: Arm; unlistenedHalves: Halves };
    /** B alone after block 1: the server's sink, no frames anywhere (sequential, not interleaved). */
    block1b: { unlistened: Arm };
    /** The same, right before block 1. */
    block0: { unlistened: Arm };
    block2: { listened: Arm; unlistened: Arm; published: Arm; noOpSink: Arm; unlistenedHalves: Halves; framesWhileOff: number; unexpectedPosts: number };
    /** Interleaved: A − B (block 1), E − D and C − D (block 2); p50 and p99 from the summaries, p50 per run. */
    fanOutBeside: Delta;
    publishNoListeners: Delta;
    offListenedVsUnlistened: Delta;
    /** F − D: a sink that does nothing against none (interleaved). */
    handOver: Delta;
    /** (A − B) + (E − D): what publishing adds to a create in a channel with 100 listeners (held against the target). */
    publishingAdds: Delta;
    /** Across the two blocks (not interleaved: block drift included). */
    acrossBlocks: { listenedOnVsOff: Delta; unlistenedOnVsOff: Delta; publishedBlock1VsBlock2: Delta; afterDeliveries: Delta; beforeDeliveries: Delta; quietVsBlock2: Delta };
    targetAddedP50Ms: number;
    publishTimeoutMs: number;
    firstErrors: string[];
  };
  /** registryAfterClose: connections still listed in the 10 channels' registry sets 1 s after the clients closed (50 every 200 ms). */
  clientsClosed: { framesTotal: number; otherFrames: Record<string, number>; uncollected: number; registryAfterClose: number };
  loadAverage: { before: number[]; after: number[] };
  date: string;
}

/** An arm against itself: two halves of alternate blocks of rounds; ratio and difference (second − first). */
interface Halves {
  ratioP50: number;
  ratioP99: number;
  diffP50: number;
  diffP99: number;
}

const halvesOf = (h: ReturnType<typeof splitHalves>): Halves => ({ ratioP50: h.ratioP50, ratioP99: h.ratioP99, diffP50: round(h.second.p50 - h.first.p50, 3), diffP99: round(h.second.p99 - h.first.p99, 3) });

interface Delta {
  p50: number;
  p99: number;
  p50PerRun: number[];
}

const delta = (a: Arm, b: Arm): Delta => ({
  p50: round(a.summary.p50 - b.summary.p50, 3),
  p99: round(a.summary.p99 - b.summary.p99, 3),
  p50PerRun: a.perRun.map((r, i) => round(r.p50 - b.perRun[i]!.p50, 3)),
});

const sum = (x: Delta, y: Delta): Delta => ({ p50: round(x.p50 + y.p50, 3), p99: round(x.p99 + y.p99, 3), p50PerRun: x.p50PerRun.map((v, i) => round(v + y.p50PerRun[i]!, 3)) });

const armOf = (runs: number[][], errors: number): Arm => ({ summary: summarize(runs), perRun: perRunPercentiles(runs), errors });

/** The worker holding the client connections, with request/answer by id. */
function startClients() {
  const worker = new Worker(new URL('./push-clients.ts', import.meta.url));
  let nextId = 0;
  const pending = new Map<number, (message: FromClients) => void>();
  let onOpened: ((message: FromClients) => void) | undefined;
  let onClosed: ((message: FromClients) => void) | undefined;
  worker.on('message', (message: FromClients) => {
    if (message.op === 'opened') onOpened?.(message);
    else if (message.op === 'closed') onClosed?.(message);
    else {
      pending.get(message.id)?.(message);
      pending.delete(message.id);
    }
  });
  const ask = <T extends FromClients>(message: ToClients & { id: number }) =>
    new Promise<T>((resolve) => {
      pending.set(message.id, resolve as (message: FromClients) => void);
      worker.postMessage(message);
    });
  return {
    open: (message: Extract<ToClients, { op: 'open' }>) =>
      new Promise<Extract<FromClients, { op: 'opened' }>>((resolve) => {
        onOpened = resolve as (message: FromClients) => void;
        worker.postMessage(message);
      }),
    collect: (messageId: string, expected: number, timeoutMs: number) => ask<Extract<FromClients, { op: 'collected' }>>({ op: 'collect', id: nextId++, messageId, expected, timeoutMs }),
    count: (messageIds: string[]) => ask<Extract<FromClients, { op: 'counted' }>>({ op: 'count', id: nextId++, messageIds }),
    close: async () => {
      const closed = await new Promise<Extract<FromClients, { op: 'closed' }>>((resolve) => {
        onClosed = resolve as (message: FromClients) => void;
        worker.postMessage({ op: 'close', batch: 50, pauseMs: 200 } satisfies ToClients);
      });
      await worker.terminate();
      return closed;
    },
  };
}

export async function measurePush(options: { samples?: number; runs?: number; say?: (line: string) => void; timeoutMs?: number } = {}): Promise<PushResult> {
  const samples = options.samples ?? 300;
  const runs = options.runs ?? 3;
  const say = options.say ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? Number(process.env.BENCH_PUSH_TIMEOUT_MS ?? 2000);
  const loadBefore = loadavg().map((v) => round(v));
  const server = await startApiServer();
  const clients = startClients();
  let closedClients: Extract<FromClients, { op: 'closed' }> | undefined;
  try {
    const ownerId = randomUUID();
    const ownerToken = await mintToken({ sub: ownerId });
    const api = async (method: string, path: string, expected: number, body?: unknown): Promise<any> => {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ownerToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (response.status !== expected) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
      return text ? JSON.parse(text) : undefined;
    };

    // --- Setup: 10 listened channels with 25 members each, an 11th nobody listens to. ---------------------
    const listened: string[] = [];
    for (let c = 0; c < CHANNELS; c++) listened.push((await api('POST', '/channels', 201, { name: `bench push ${c}` })).id as string);
    const unlistened = (await api('POST', '/channels', 201, { name: 'bench push, no listeners' })).id as string;
    const connections: { token: string; channelId: string }[] = [];
    for (const channelId of listened) {
      const members = Array.from({ length: MEMBERS_PER_CHANNEL }, () => randomUUID());
      // One at a time: 25 member writes at once exhaust the local pool's connect timeout on a loaded machine (503).
      for (const userId of members) await api('PUT', `/channels/${channelId}/members/${userId}`, 204);
      for (const userId of members) {
        const token = await mintToken({ sub: userId });
        for (let k = 0; k < CONNECTIONS_PER_MEMBER; k++) connections.push({ token, channelId });
      }
    }
    const wsUrl = `${server.url.replace(/^http/, 'ws')}${WEBSOCKET_PATH}`;
    const opened = await clients.open({ op: 'open', url: wsUrl, connections, concurrency: 32, timeoutMs: 30_000 });
    say(`  push: ${opened.subscribed} of ${connections.length} connections subscribed (${opened.opened} open) in ${round(opened.ms / 1000, 1)} s${opened.failures.length ? `; first failures: ${opened.failures.join('; ')}` : ''}`);
    if (opened.subscribed !== connections.length) throw new Error(`push: only ${opened.subscribed} of ${connections.length} connections subscribed: ${opened.failures.join('; ')}`);

    const firstErrors: string[] = [];
    const noteError = (where: string, error: unknown) => {
      if (firstErrors.length < 10) firstErrors.push(`${where}: ${((error as Error).message ?? String(error)).slice(0, 300)}`);
    };
    const create = async (channelId: string, i: number): Promise<{ ms: number; ackAt: number; messageId: string }> => {
      const started = performance.now();
      const message = await api('POST', `/channels/${channelId}/messages`, 201, { content: `push ${i}: a message of ordinary length about deployments` });
      const ackAt = now();
      return { ms: performance.now() - started, ackAt, messageId: message.id as string };
    };

    // One round: both arms, in alternating order (as timeInterleaved does for two arms). Arm 0 creates in a
    // listened channel (rotating) and, with `frames`, waits for its 100 frames; arm 1 in the 11th channel.
    const perFrameRuns: number[][] = [];
    const lastRuns: number[][] = [];
    let missingFrames = 0;
    let incompleteMessages = 0;
    let framesBeforeAck = 0;
    let frameCount = 0;
    let messages = 0;
    let duplicates = 0;
    const offIds: string[] = [];
    const block = async (label: string, count: number, record: boolean) => {
      const arms = [[] as number[], [] as number[]];
      const errors = [0, 0];
      const perFrame: number[] = [];
      const last: number[] = [];
      for (let i = 0; i < count; i++) {
        for (const arm of i % 2 === 0 ? [0, 1] : [1, 0]) {
          try {
            if (arm === 1) {
              arms[1]!.push((await create(unlistened, i)).ms);
              continue;
            }
            const created = await create(listened[i % CHANNELS]!, i);
            arms[0]!.push(created.ms);
            const got = await clients.collect(created.messageId, PER_CHANNEL, timeoutMs);
            duplicates += got.duplicates;
            if (!record) continue;
            messages += 1;
            frameCount += got.arrivals.length;
            for (const at of got.arrivals) {
              perFrame.push(at - created.ackAt);
              if (at < created.ackAt) framesBeforeAck += 1;
            }
            if (got.connections < PER_CHANNEL) {
              missingFrames += PER_CHANNEL - got.connections;
              incompleteMessages += 1;
              noteError(`${label} push`, new Error(`message ${created.messageId}: ${got.connections} of ${PER_CHANNEL} frames within ${timeoutMs} ms`));
            } else last.push(Math.max(...got.arrivals) - created.ackAt);
          } catch (error) {
            errors[arm]! += 1;
            noteError(`${label} arm ${arm}`, error);
          }
        }
      }
      if (record) {
        perFrameRuns.push(perFrame);
        lastRuns.push(last);
      }
      return { arms, errors };
    };

    // Diagnostic around block 1: B alone (the server's sink, no listened-channel create, so no frames at all),
    // right before block 1 (Bq0) and right after it (Bq). If B is slower than both, A's deliveries slow the
    // creates around them (interleaving puts that on B too, so A − B does not see it); if only Bq0 is slow with
    // B, it is the time since the setup (1,000 subscribes), not the deliveries.
    const quietBlock = async (label: string) => {
      const quiet = { runs: [] as number[][], errors: 0 };
      for (let run = 0; run < runs; run++) {
        const samplesOfRun: number[] = [];
        for (let i = 0; i < samples; i++) {
          try {
            samplesOfRun.push((await create(unlistened, i)).ms);
          } catch (error) {
            quiet.errors += 1;
            noteError(`${label} run ${run + 1}`, error);
          }
        }
        quiet.runs.push(samplesOfRun);
      }
      return quiet;
    };
    say(`  push block 0 (the server's sink, no frames): ${runs} × ${samples} creates in the channel without listeners`);
    for (let i = 0; i < Math.min(50, samples); i++) await create(unlistened, i).catch((error: unknown) => noteError('warm-up 0', error));
    const quiet0 = await quietBlock('block 0');
    say(`  push block 1 (the server's sink): ${runs} × ${samples} rounds of a create in a listened channel (frames awaited) and one in a channel without listeners`);
    const warm1 = await block('warm-up 1', Math.min(50, samples), false);
    const on = { listened: [] as number[][], unlistened: [] as number[][], errors: [...warm1.errors] };
    for (let run = 0; run < runs; run++) {
      const result = await block(`block 1 run ${run + 1}`, samples, true);
      on.listened.push(result.arms[0]!);
      on.unlistened.push(result.arms[1]!);
      result.errors.forEach((n, k) => (on.errors[k]! += n));
      const sorted = [...perFrameRuns.at(-1)!].sort((a, b) => a - b);
      say(`    run ${run + 1}: frame p50 ${round(sorted[Math.ceil(sorted.length / 2) - 1] ?? NaN)} ms, p99 ${round(sorted[Math.ceil(sorted.length * 0.99) - 1] ?? NaN)} ms over ${sorted.length} frames; missing so far ${missingFrames}`);
    }

    say(`  push block 1b (the server's sink, no frames): ${runs} × ${samples} creates in the channel without listeners`);
    const quiet = await quietBlock('block 1b');

    say(`  push block 2 (the server's sink replaced): ${runs} × ${samples} rounds of four creates, the 1,000 connections still open: in a listened channel and in the channel without listeners with nothing published, in the channel without listeners published through the fan-out, and there with a sink that does nothing`);
    // E's sink is the server's, minus what only a listened channel needs: the same fanOut, the same registry
    // (it finds no connection: a poster asked to post is an error), started without waiting, as the server's.
    let unexpectedPosts = 0;
    const fanOutSink: ChangeSink = {
      publish(changes) {
        for (const change of changes) {
          void fanOut(change, { post: () => Promise.reject(new Error(`bench sink: a connection listens to ${change.channel_id}`)) }, fanOutFunction.concurrency).then(
            (report) => (unexpectedPosts += report.delivered + report.failed + report.gone),
            (error: unknown) => noteError('block 2 fan-out', error),
          );
        }
        return Promise.resolve();
      },
    };
    // F's sink takes the change and does nothing: what handing a change over costs a create by itself.
    const noOpSink: ChangeSink = { publish: () => Promise.resolve() };
    const orders4 = permutations(4);
    const offBlock = async (label: string, count: number) => {
      const arms = [[] as number[], [] as number[], [] as number[], [] as number[]];
      const errors = [0, 0, 0, 0];
      for (let i = 0; i < count; i++) {
        for (const arm of orders4[i % orders4.length]!) {
          useChangeSink(arm === 2 ? fanOutSink : arm === 3 ? noOpSink : undefined);
          try {
            const created = await create(arm === 0 ? listened[i % CHANNELS]! : unlistened, i);
            arms[arm]!.push(created.ms);
            if (arm === 0) offIds.push(created.messageId);
          } catch (error) {
            errors[arm]! += 1;
            noteError(`${label} arm ${arm}`, error);
          } finally {
            useChangeSink(undefined);
          }
        }
      }
      return { arms, errors };
    };
    useChangeSink(undefined);
    const warm2 = await offBlock('warm-up 2', Math.min(48, samples));
    const off = { listened: [] as number[][], unlistened: [] as number[][], published: [] as number[][], noOp: [] as number[][], errors: [...warm2.errors] };
    for (let run = 0; run < runs; run++) {
      const result = await offBlock(`block 2 run ${run + 1}`, samples);
      off.listened.push(result.arms[0]!);
      off.unlistened.push(result.arms[1]!);
      off.published.push(result.arms[2]!);
      off.noOp.push(result.arms[3]!);
      result.errors.forEach((n, k) => (off.errors[k]! += n));
    }
    // Nothing of the listened channels was published in block 2: no frame of its messages may arrive.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const framesWhileOff = (await clients.count(offIds)).frames;

    const A = armOf(on.listened, on.errors[0]!);
    const B = armOf(on.unlistened, on.errors[1]!);
    const C = armOf(off.listened, off.errors[0]!);
    const D = armOf(off.unlistened, off.errors[1]!);
    const bHalves = splitHalves(on.unlistened, 2);
    const E = armOf(off.published, off.errors[2]!);
    const Bq = armOf(quiet.runs, quiet.errors);
    const Bq0 = armOf(quiet0.runs, quiet0.errors);
    const F = armOf(off.noOp, off.errors[3]!);
    const dHalves = splitHalves(off.unlistened, ordersOf(4));
    const perFrame = armOf(perFrameRuns, missingFrames);
    const lastOfChannel = armOf(lastRuns, incompleteMessages);
    closedClients = await clients.close();
    // The server forgets each closed connection in Redis on its own; give those a moment, then count what is left.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const redis = await getRedis();
    const registryAfterClose = (await Promise.all(listened.map((channelId) => redis.scard(`push:channel:${channelId}`)))).reduce((a, b) => a + b, 0);
    const result: PushResult = {
      setup: {
        channels: CHANNELS,
        connections: connections.length,
        perChannel: PER_CHANNEL,
        members: MEMBERS_PER_CHANNEL * CHANNELS,
        connectionsPerMember: CONNECTIONS_PER_MEMBER,
        subscribed: opened.subscribed,
        openMs: round(opened.ms, 0),
        failures: opened.failures,
        fanOutConcurrency: fanOutFunction.concurrency,
        clients: 'ws clients in a worker thread of the bench process; the server, its handlers, the fan-out and the local Upstash endpoint on the main thread',
      },
      latency: { perFrame, lastOfChannel, messages, frames: frameCount, framesBeforeAck, missingFrames, incompleteMessages, duplicates, timeoutMs, targetP99Ms: TARGET_P99_MS },
      createCost: {
        block1: { listened: A, unlistened: B, unlistenedHalves: halvesOf(bHalves) },
        block0: { unlistened: Bq0 },
        block1b: { unlistened: Bq },
        block2: { listened: C, unlistened: D, published: E, noOpSink: F, unlistenedHalves: halvesOf(dHalves), framesWhileOff, unexpectedPosts },
        fanOutBeside: delta(A, B),
        publishNoListeners: delta(E, D),
        offListenedVsUnlistened: delta(C, D),
        handOver: delta(F, D),
        publishingAdds: sum(delta(A, B), delta(E, D)),
        acrossBlocks: { listenedOnVsOff: delta(A, C), unlistenedOnVsOff: delta(B, D), publishedBlock1VsBlock2: delta(B, E), afterDeliveries: delta(B, Bq), beforeDeliveries: delta(B, Bq0), quietVsBlock2: delta(Bq, E) },
        targetAddedP50Ms: TARGET_CREATE_ADDED_P50_MS,
        publishTimeoutMs: PUBLISH_TIMEOUT_MS,
        firstErrors,
      },
      clientsClosed: { framesTotal: closedClients.framesTotal, otherFrames: closedClients.otherFrames, uncollected: closedClients.leftOver, registryAfterClose },
      loadAverage: { before: loadBefore, after: loadavg().map((v) => round(v)) },
      date: new Date().toISOString(),
    };
    say(`  push latency (ack → frame, ${frameCount} frames of ${messages} messages): p50 ${round(perFrame.summary.p50)} / p99 ${round(perFrame.summary.p99)} ms; last of ${PER_CHANNEL}: p50 ${round(lastOfChannel.summary.p50)} / p99 ${round(lastOfChannel.summary.p99)} ms; ${framesBeforeAck} before the ack; missing ${missingFrames}`);
    say(`  create: A (100 listeners) p50 ${round(A.summary.p50)} / p99 ${round(A.summary.p99)}, B (none) ${round(B.summary.p50)} / ${round(B.summary.p99)}, C (off) ${round(C.summary.p50)} / ${round(C.summary.p99)}, D (off, none) ${round(D.summary.p50)} / ${round(D.summary.p99)} ms; E (published, none) ${round(E.summary.p50)} / ${round(E.summary.p99)} ms, Bq0 (block 0) ${round(Bq0.summary.p50)} / ${round(Bq0.summary.p99)} ms, Bq (block 1b) ${round(Bq.summary.p50)} / ${round(Bq.summary.p99)} ms, F (no-op sink) ${round(F.summary.p50)} / ${round(F.summary.p99)} ms; A−B p50 ${result.createCost.fanOutBeside.p50}, E−D p50 ${result.createCost.publishNoListeners.p50}, C−D p50 ${result.createCost.offListenedVsUnlistened.p50}, A−C (across blocks) p50 ${result.createCost.acrossBlocks.listenedOnVsOff.p50} ms; B A/A ×${bHalves.ratioP50}, D A/A ×${dHalves.ratioP50}; frames while off ${framesWhileOff}; unexpected posts ${unexpectedPosts}; errors ${on.errors.join('/')} ${off.errors.join('/')}`);
    return result;
  } finally {
    if (!closedClients) await clients.close().catch(() => undefined);
    await server.close();
  }
}
