/**
 * Faults on a three-node cluster (RF 3) under a steady write/read load through the handlers: one node
 * stopped and restarted, two nodes stopped, the whole cluster stopped and restarted. Figures are printed and
 * written to .local/faults-report.json for the README's reliability section.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import cassandra from 'cassandra-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getConfig } from '../../lib/config.js';
import { handler as createChannel } from '../../functions/create-channel.js';
import { handler as createMessage } from '../../functions/create-message.js';
import { handler as getMessage } from '../../functions/get-message.js';
import { handler as listMessages } from '../../functions/list-messages.js';
import { handler as putReaction } from '../../functions/put-reaction.js';
import { handler as setReadPosition } from '../../functions/set-read-position.js';
import { handler as webhook } from '../../functions/telegram-webhook.js';
import { handler as ready } from '../../functions/health-ready.js';
import { apigwEvent, lambdaContext } from '../support/apigw.js';
import { TEST_WEBHOOK_SECRET } from '../support/constants.js';
import { randomChatId, textMessage, update } from '../support/telegram.js';
import { start, stop } from './cluster-control.js';
import { LOCAL_SERVICE_AUDIENCE } from '../../infra/local/jwt.js';

const SHORT = process.env.FAULTS_SHORT === '1';
const userId = '5d7c9b1a-2e3f-4a5b-8c6d-7e8f9a0b1c2d';
const claims = { sub: userId };
const report: Record<string, unknown> = {};
let channelId: string;

interface PhaseStats {
  writes: number;
  writeErrors: number;
  reads: number;
  /** Reads that failed (5xx). */
  readErrors: number;
  /** Reads at LOCAL_ONE that found an acknowledged message missing: a replica not yet caught up. */
  staleReads: number;
  writeP99Ms: number;
  slowestFailureMs: number;
}

const acknowledged: string[] = [];

/** A bounded load: `workers` callers alternating a create and a read of an acknowledged message. */
function startLoad(workers = 4) {
  let phase: PhaseStats & { latencies: number[] } = fresh();
  let running = true;
  function fresh() {
    return { writes: 0, writeErrors: 0, reads: 0, readErrors: 0, staleReads: 0, writeP99Ms: 0, slowestFailureMs: 0, latencies: [] as number[] };
  }
  const loops = Array.from({ length: workers }, async (_, worker) => {
    let i = 0;
    while (running) {
      const started = performance.now();
      const created = await createMessage(apigwEvent({ method: 'POST', route: '/channels/{channel_id}/messages', params: { channel_id: channelId }, claims, body: { content: `load ${worker}:${i++}` } }), lambdaContext());
      const took = performance.now() - started;
      phase.writes += 1;
      phase.latencies.push(took);
      if (created.statusCode === 201) acknowledged.push(JSON.parse(created.body!).id);
      else {
        phase.writeErrors += 1;
        phase.slowestFailureMs = Math.max(phase.slowestFailureMs, took);
      }
      const id = acknowledged[Math.floor(Math.random() * acknowledged.length)];
      if (id) {
        const read = await getMessage(apigwEvent({ method: 'GET', route: '/channels/{channel_id}/messages/{message_id}', params: { channel_id: channelId, message_id: id }, claims }), lambdaContext());
        phase.reads += 1;
        if (read.statusCode === 404) phase.staleReads += 1;
        else if (read.statusCode !== 200) phase.readErrors += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  });
  return {
    /** Closes the current phase and returns its figures. */
    cut(): PhaseStats {
      const closed = phase;
      phase = fresh();
      const sorted = [...closed.latencies].sort((a, b) => a - b);
      const { latencies: _, ...stats } = closed;
      return { ...stats, writeP99Ms: Math.round((sorted[Math.floor(sorted.length * 0.99)] ?? 0) * 10) / 10, slowestFailureMs: Math.round(closed.slowestFailureMs) };
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function create(content: string) {
  return createMessage(apigwEvent({ method: 'POST', route: '/channels/{channel_id}/messages', params: { channel_id: channelId }, claims, body: { content } }), lambdaContext());
}

async function untilWriteSucceeds(timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if ((await create('probe')).statusCode === 201) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`writes did not recover within ${timeoutMs} ms`);
}

/** Every acknowledged message, read back at QUORUM on a fresh client. */
async function lostMessages(): Promise<number> {
  const config = getConfig().scylla;
  const client = new cassandra.Client({ contactPoints: config.contactPoints, localDataCenter: config.localDataCenter, keyspace: config.keyspace, socketOptions: { readTimeout: 10_000 } });
  await client.connect();
  let lost = 0;
  const { bucketOf } = await import('../../lib/ids/snowflake.js');
  for (const id of acknowledged) {
    const row = await client.execute('SELECT message_id FROM messages WHERE channel_id = ? AND bucket = ? AND message_id = ?', [channelId, bucketOf(BigInt(id)), cassandra.types.Long.fromString(id)], {
      prepare: true,
      consistency: cassandra.types.consistencies.quorum,
    });
    if (row.rowLength !== 1) lost += 1;
  }
  await client.shutdown();
  return lost;
}

beforeAll(async () => {
  const created = await createChannel(apigwEvent({ method: 'POST', route: '/channels', claims, body: { name: 'faults' } }), lambdaContext());
  channelId = JSON.parse(created.body!).id;
});

afterAll(() => {
  mkdirSync('.local', { recursive: true });
  writeFileSync('.local/faults-report.json', JSON.stringify(report, null, 2));
  console.log(JSON.stringify(report, null, 2));
});

describe('three-node cluster under load', () => {
  it('keeps writing and reading with one node down, and loses nothing', async () => {
    const load = startLoad();
    await new Promise((resolve) => setTimeout(resolve, SHORT ? 2000 : 5000));
    const before = load.cut();
    await stop(3);
    await new Promise((resolve) => setTimeout(resolve, SHORT ? 4000 : 10_000));
    const during = load.cut();
    await start(3);
    await new Promise((resolve) => setTimeout(resolve, SHORT ? 3000 : 8000));
    const after = load.cut();
    await load.stop();
    const lost = await lostMessages();
    report.oneNodeDown = { before, during, after, acknowledged: acknowledged.length, lost };
    expect(during.writes).toBeGreaterThan(50);
    expect(during.writeErrors).toBe(0);
    expect(during.readErrors).toBe(0);
    expect(after.writeErrors).toBe(0);
    expect(lost).toBe(0);
  });

  it('fails writes fast with 503 when two nodes are down, and recovers in the same process', async () => {
    await stop(2);
    await stop(3);
    const failures: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const result = await create(`quorum lost ${i}`);
      failures.push(performance.now() - started);
      expect(result.statusCode).toBe(503);
      expect(JSON.parse(result.body!).error.code).toBe('unavailable');
      expect(result.headers?.['Retry-After']).toBe('1');
    }
    const readiness = await ready(apigwEvent({ method: 'GET', route: '/health/ready' }), lambdaContext());
    await start(2);
    const recoveredAfterMs = await untilWriteSucceeds(60_000);
    await start(3);
    const slowest = Math.max(...failures);
    report.twoNodesDown = { failedWrites: failures.length, slowestFailureMs: Math.round(slowest), readinessStatus: readiness.statusCode, recoveredAfterMs };
    expect(slowest).toBeLessThan(1000);
  });

  it('answers 503 while the whole cluster is down and recovers without a new client', async () => {
    for (const index of [3, 2, 1]) await stop(index);
    const started = performance.now();
    const down = await create('cluster down');
    const downMs = performance.now() - started;
    expect(down.statusCode).toBe(503);
    const readiness = await ready(apigwEvent({ method: 'GET', route: '/health/ready' }), lambdaContext());
    expect(readiness.statusCode).toBe(503);
    expect(JSON.parse(readiness.body!).checks.scylla.status).toBe('unavailable');
    for (const index of [1, 2, 3]) await start(index);
    const recoveredAfterMs = await untilWriteSucceeds(90_000);
    report.clusterDown = { failureMs: Math.round(downMs), recoveredAfterMs };
    expect(downMs).toBeLessThan(2000);
    expect((await ready(apigwEvent({ method: 'GET', route: '/health/ready' }), lambdaContext())).statusCode).toBe(200);
  });

  it('stays exact under many concurrent writers on the cluster', async () => {
    // The earlier tests restarted nodes: let the cluster settle (hints, schema) before the contention.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const chatId = randomChatId();
    const linked = await createChannel(apigwEvent({ method: 'POST', route: '/channels', claims: { ...claims, scope: 'messages:service', aud: LOCAL_SERVICE_AUDIENCE }, body: { name: 'tg', telegram_chat_id: chatId } }), lambdaContext());
    const linkedId = JSON.parse(linked.body!).id;
    const payload = update('message', textMessage(chatId, 9, 'once'));
    const deliveries = await Promise.all(
      Array.from({ length: 100 }, () => webhook(apigwEvent({ method: 'POST', route: '/telegram/webhook', body: payload, headers: { 'x-telegram-bot-api-secret-token': TEST_WEBHOOK_SECRET } }), lambdaContext())),
    );
    const stored = deliveries.filter((response) => JSON.parse(response.body!).status === 'stored').length;
    const messageId = JSON.parse((await create('react')).body!).id;
    const reactions = await Promise.all(
      Array.from({ length: 100 }, () =>
        putReaction(apigwEvent({ method: 'PUT', route: '/channels/{channel_id}/messages/{message_id}/reactions/{emoji}', params: { channel_id: channelId, message_id: messageId, emoji: '🔥' }, claims }), lambdaContext()),
      ),
    );
    const { countReactionRows, reactionCounts } = await import('../../lib/reactions/store.js');
    const rows = Object.fromEntries(await countReactionRows(channelId, BigInt(messageId)));
    let counts = Object.fromEntries(await reactionCounts(channelId, BigInt(messageId)));
    // The one insert that wins can itself time out (applied, but its caller got a 503 and moved no
    // counter): the counter then lags its row until the reconciler's repair, which is the designed path.
    // Exactness is asserted on the rows, and on the counter once repaired.
    if ((counts['🔥'] ?? 0) !== 1) {
      const { repairReactionDrift } = await import('../../lib/use-cases/reconciler/reactions.js');
      const { Budget } = await import('../../lib/use-cases/reconciler/budget.js');
      await repairReactionDrift(Budget.fromRemaining(60_000, 0), 200);
      counts = Object.fromEntries(await reactionCounts(channelId, BigInt(messageId)));
    }
    const positions = [];
    for (let i = 0; i < 20; i++) positions.push(JSON.parse((await create(`p${i}`)).body!).id as string);
    const shuffled = [...positions].sort(() => Math.random() - 0.5);
    await Promise.all(shuffled.map((id) => setReadPosition(apigwEvent({ method: 'PUT', route: '/channels/{channel_id}/read-position', params: { channel_id: channelId }, claims, body: { message_id: id } }), lambdaContext())));
    const final = await setReadPosition(apigwEvent({ method: 'PUT', route: '/channels/{channel_id}/read-position', params: { channel_id: channelId }, claims, body: { message_id: positions[0] } }), lambdaContext());
    // Under this much contention some conditional writes time out: those callers get a retriable 503
    // (Telegram redelivers on any non-2xx), and a retry lands on the one stored copy.
    const retriable = (response: { statusCode?: number; body?: string }) =>
      response.statusCode === 503 && JSON.parse(response.body!).error.code === 'unavailable';
    const deliveryRetries = deliveries.filter((response) => response.statusCode !== 200);
    expect(deliveryRetries.every(retriable)).toBe(true);
    for (let i = 0; i < deliveryRetries.length; i++) {
      const again = await webhook(apigwEvent({ method: 'POST', route: '/telegram/webhook', body: payload, headers: { 'x-telegram-bot-api-secret-token': TEST_WEBHOOK_SECRET } }), lambdaContext());
      expect(JSON.parse(again.body!).status).toBe('duplicate');
    }
    const reactionRetries = reactions.filter((response) => response.statusCode !== 204);
    expect(reactionRetries.every(retriable)).toBe(true);
    report.concurrency = {
      telegramDeliveries: 100,
      telegramStored: stored,
      telegramAnswered503: deliveryRetries.length,
      reactionAdds: 100,
      reactionAnswered503: reactionRetries.length,
      reactionCount: counts['🔥'],
      readPositionWriters: 20,
    };
    // Exactly once is a property of what is stored, not of the answers: the one claim that wins may itself
    // time out (a 503 whose write still applied), after which every delivery, retries included, is a duplicate.
    expect(stored).toBeLessThanOrEqual(1);
    const timeline = await listMessages(
      apigwEvent({ method: 'GET', route: '/channels/{channel_id}/messages', params: { channel_id: linkedId }, query: { limit: '100' }, claims: { ...claims, scope: 'messages:service', aud: LOCAL_SERVICE_AUDIENCE } }),
      lambdaContext(),
    );
    const bridged = (JSON.parse(timeline.body!) as { messages: { telegram: { message_id: number } | null }[] }).messages;
    expect(bridged.map((message) => message.telegram?.message_id)).toEqual([9]);
    expect(rows).toEqual({ '🔥': 1 });
    expect(counts).toEqual({ '🔥': 1 });
    expect(JSON.parse(final.body!).message_id).toBe(positions[positions.length - 1]);
    expect(linkedId).toBeDefined();
  });
});
