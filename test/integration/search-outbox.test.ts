/**
 * The search index off the message write's path (README, "Search"): a create waits for no PostgreSQL call, the
 * indexer on the changes bus applies the message's current state with its version, and the reconciler's sweep
 * of the search outbox applies whatever the indexer missed (an event lost, PostgreSQL down).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeView } from '../../lib/changes/model.js';
import { nextMessageId } from '../../lib/ids/worker-lease.js';
import type { MessageRecord } from '../../lib/messages/model.js';
import { closePostgres, pgQuery } from '../../lib/postgres/pool.js';
import { applySearchState } from '../../lib/search/indexer.js';
import { saveCheckpoint } from '../../lib/reconciler/store.js';
import { OUTBOX_SLOT_MS, outboxShard, outboxSlot, slotOf } from '../../lib/search/outbox.js';
import { persistMessage } from '../../lib/use-cases/messages.js';
import { useChangeSink, type ChangeSink } from '../../lib/use-cases/publish.js';
import { Budget } from '../../lib/use-cases/reconciler/budget.js';
import { sweepSearchOutbox, SWEEP_TASK } from '../../lib/use-cases/reconciler/search-sweep.js';
import { getMessageState as readMessageState } from '../../lib/messages/store.js';
import { useLocalApi, type ApiClient } from '../support/api.js';
import { withEnv } from '../support/env.js';

const api = useLocalApi();

/** A PostgreSQL that accepts connections and never answers: every query waits for the pool's timeout. */
let hanging: Server;
const held: Socket[] = [];
beforeAll(async () => {
  hanging = createServer((socket) => held.push(socket));
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  for (const socket of held) socket.destroy();
  await new Promise<void>((resolve) => hanging.close(() => resolve()));
});
const hangingUrl = () => `postgres://nobody@127.0.0.1:${(hanging.address() as AddressInfo).port}/none`;

/** The bus as AWS has it for a request: changes are put on it and nothing here indexes them (the indexer is elsewhere). */
function recordingSink(): ChangeSink & { changes: ChangeView[] } {
  const changes: ChangeView[] = [];
  return {
    changes,
    publish(published) {
      changes.push(...published);
      return Promise.resolve();
    },
  };
}

/** Runs `work` with the changes put on a bus no indexer reads (an event lost), then gives the sink back to the local server's. */
async function withLostEvents<T>(work: (sink: ReturnType<typeof recordingSink>) => Promise<T>): Promise<T> {
  const sink = recordingSink();
  useChangeSink(sink);
  try {
    return await work(sink);
  } finally {
    // The local server's sink cannot be put back from here: the tests using it run before these (see the order).
    useChangeSink(undefined);
  }
}

/** Waits until the slot `at` falls in is over, then sweeps with no grace (a test cannot wait the real one out). */
async function sweepAfter(at: number) {
  const wait = (slotOf(at) + 1) * OUTBOX_SLOT_MS - Date.now() + 20;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  return sweepSearchOutbox(Budget.fromRemaining(60_000, 0), { graceMs: 0 });
}

const found = async (client: ApiClient, channelId: string, query: string): Promise<string[]> => {
  const response = await client.get(`/channels/${channelId}/search?q=${encodeURIComponent(query)}`);
  expect(response.status).toBe(200);
  return response.body.messages.map((message: { content: string }) => message.content);
};

const searchRow = async (channelId: string, messageId: string) =>
  (
    await pgQuery<{ content: string; deleted: boolean; state_version: string }>(
      'SELECT content, deleted, state_version::text FROM message_search WHERE chat_id = $1 AND message_id = $2',
      [channelId, messageId],
    )
  ).rows[0];

describe('search outbox', () => {
  it('writes one outbox row in the message batch, at the write time of the message state', async () => {
    const owner = await api.user();
    const channelId = (await owner.post('/channels', { name: 'outbox rows' })).body.id as string;
    const before = Date.now();
    const created = await owner.post(`/channels/${channelId}/messages`, { content: 'outbox row please' });
    const id = BigInt(created.body.id as string);
    const state = await readMessageState(channelId, id);
    const slots = [...new Set([slotOf(before), slotOf(Date.now())])];
    const rows = (await Promise.all(slots.map((slot) => outboxSlot(outboxShard(id), slot)))).flat();
    const mine = rows.filter((row) => row.messageId === id);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ channelId, operation: 'index', writtenMicros: state!.version });
    // The indexer (the local sink, awaited by the request) applied exactly that state.
    expect(await searchRow(channelId, created.body.id as string)).toEqual({ content: 'outbox row please', deleted: false, state_version: state!.version.toString() });
  });

  it('never lets an older state overwrite a newer one, whatever order the applications land in', async () => {
    const owner = await api.user();
    const channelId = (await owner.post('/channels', { name: 'out of order' })).body.id as string;
    const id = (await owner.post(`/channels/${channelId}/messages`, { content: 'first wording' })).body.id as string;
    const first = await readMessageState(channelId, BigInt(id));
    await owner.patch(`/channels/${channelId}/messages/${id}`, { content: 'second wording' });
    const second = await readMessageState(channelId, BigInt(id));
    expect(second!.version).toBeGreaterThan(first!.version);

    // The first edit's application arrives late (a slow indexer, a retry): refused.
    await applySearchState(channelId, BigInt(id), first);
    expect(await found(owner, channelId, 'first')).toEqual([]);
    expect(await found(owner, channelId, 'second')).toEqual(['second wording']);
    expect((await searchRow(channelId, id))!.state_version).toBe(second!.version.toString());

    // A delete leaves a marker with its version: the older live states cannot bring the message back.
    expect((await owner.delete(`/channels/${channelId}/messages/${id}`)).status).toBe(204);
    const deleted = await readMessageState(channelId, BigInt(id));
    expect(await searchRow(channelId, id)).toEqual({ content: '', deleted: true, state_version: deleted!.version.toString() });
    await applySearchState(channelId, BigInt(id), second);
    await applySearchState(channelId, BigInt(id), first);
    expect(await searchRow(channelId, id)).toMatchObject({ content: '', deleted: true });
    expect(await found(owner, channelId, 'wording')).toEqual([]);
  });

  // From here on the local server's sink is replaced (it cannot be put back): tests that need it come first.

  it('a create with PostgreSQL hanging stores the message without waiting for PostgreSQL, and the sweep indexes it once PostgreSQL is back', async () => {
    const owner = await api.user();
    const channelId = (await owner.post('/channels', { name: 'hanging database' })).body.id as string;
    const message = (content: string, id: bigint): MessageRecord => ({
      channelId, id, authorId: owner.userId, content, editedAt: null, replyToId: null, source: 'app', telegram: null, deleted: false, mentions: [], attachments: [],
    });
    const { viaApi, apiMs, directMs, sink } = await withLostEvents((sink) =>
      withEnv({ DATABASE_URL: hangingUrl(), DATABASE_TIMEOUT_MS: '2000' }, closePostgres, async () => {
        // The store write itself (persistMessage): no PostgreSQL call at all, so no timeout to wait out.
        const direct = message('hanging but stored directly', await nextMessageId());
        let started = Date.now();
        await persistMessage(direct);
        const directMs = Date.now() - started;
        // Through the API the access check still asks PostgreSQL first (and answers from Scylla's replica after
        // its timeout): one timeout, where the create used to pay a second one for the search row.
        started = Date.now();
        const viaApi = await owner.post(`/channels/${channelId}/messages`, { content: 'hanging but stored via the api' });
        return { viaApi, apiMs: Date.now() - started, directMs, sink };
      }),
    );
    expect(directMs).toBeLessThan(500);
    expect(viaApi.status).toBe(201);
    expect(apiMs).toBeLessThan(3500);
    expect(sink.changes.map((change) => change.type)).toEqual(['message.created', 'message.created']);
    expect(await found(owner, channelId, 'hanging')).toEqual([]);

    const report = await sweepAfter(Date.now());
    expect(report).toMatchObject({ complete: true });
    expect(report.repaired).toBeGreaterThanOrEqual(2);
    expect(report.lagSeconds).toBeLessThan(30);
    expect((await found(owner, channelId, 'hanging')).sort()).toEqual(['hanging but stored directly', 'hanging but stored via the api']);
  });

  it('a lost indexer event (create, edit, delete) is applied by the sweep, and an indexed one is not applied again', async () => {
    const owner = await api.user();
    const channelId = (await owner.post('/channels', { name: 'lost events' })).body.id as string;
    const started = Date.now();
    const { edited, removed } = await withLostEvents(async () => {
      const kept = (await owner.post(`/channels/${channelId}/messages`, { content: 'lost create event' })).body.id as string;
      const edited = (await owner.post(`/channels/${channelId}/messages`, { content: 'before the missed edit' })).body.id as string;
      const removed = (await owner.post(`/channels/${channelId}/messages`, { content: 'lost delete event' })).body.id as string;
      return { kept, edited, removed };
    });
    // Sweep those creates in, then lose an edit and a delete.
    await sweepAfter(Date.now());
    expect((await found(owner, channelId, 'lost')).sort()).toEqual(['lost create event', 'lost delete event']);
    await withLostEvents(async () => {
      expect((await owner.patch(`/channels/${channelId}/messages/${edited}`, { content: 'rewritten despite the missed edit' })).status).toBe(200);
      expect((await owner.delete(`/channels/${channelId}/messages/${removed}`)).status).toBe(204);
    });
    expect(await found(owner, channelId, 'rewritten')).toEqual([]);
    const report = await sweepAfter(Date.now());
    expect(report.repaired).toBeGreaterThanOrEqual(2);
    expect(await found(owner, channelId, 'rewritten')).toEqual(['rewritten despite the missed edit']);
    expect(await searchRow(channelId, removed)).toMatchObject({ deleted: true, content: '' });
    expect(await found(owner, channelId, 'lost')).toEqual(['lost create event']);

    // The same slots swept again (checkpoint moved back to this test's start): every entry is found current in
    // one bulk check, and nothing is applied again.
    await saveCheckpoint(SWEEP_TASK, String(slotOf(started)));
    const again = await sweepSearchOutbox(Budget.fromRemaining(60_000, 0), { graceMs: 0 });
    expect(again.checked).toBeGreaterThanOrEqual(3);
    expect(again.repaired).toBe(0);
  });
});
