/**
 * Tombstones, read from the node itself: every statement a message write sends, through the real write paths
 * (the local server over HTTP, the Telegram webhook), then each partition it wrote read whole with tracing on.
 * The node's own count ("Read N live rows and M tombstone cells", Cassandra's ReadCommand) covers memtables and
 * SSTables alike, so no flush is needed. Only partitions of this file's own channels are read (the node and
 * the keyspace are shared with other test files).
 */
import { indexBucketOf, logDayOf } from '../../lib/telegram/store.js';
import { setTimeout as sleep } from 'node:timers/promises';
import cassandra from 'cassandra-driver';
import { describe, expect, it } from 'vitest';
import { EVERYONE } from '../../lib/changes/model.js';
import { bucketOf } from '../../lib/ids/snowflake.js';
import { activityDay } from '../../lib/messages/replies.js';
import { getScylla } from '../../lib/scylla/client.js';
import { outboxShard, slotOf } from '../../lib/search/outbox.js';
import { useLocalApi, type ApiClient } from '../support/api.js';
import { deliverTo, linkedChannel, textMessage, update } from '../support/telegram.js';

const { Long } = cassandra.types;
const api = useLocalApi();

interface ReadCount {
  live: number;
  tombstones: number;
}

const TRACE_EVENT = /^Read (\d+) live rows and (\d+) tombstone cells/;

/** Reads one partition (or a clustering prefix of one) whole, with tracing, and returns the node's counts. */
async function countRead(query: string, params: unknown[]): Promise<ReadCount> {
  const client = await getScylla();
  const result = await client.execute(query, params, { prepare: true, traceQuery: true, fetchSize: 0 });
  const traceId = result.info.traceId;
  if (!traceId) throw new Error('the node returned no trace id');
  // Trace events are written asynchronously after the answer: ask until the read's event is there.
  for (let attempt = 0; attempt < 40; attempt++) {
    const trace = await client.metadata.getTrace(traceId);
    const counts = trace.events.map((event) => TRACE_EVENT.exec(event.activity)).filter((match) => match !== null);
    if (counts.length > 0) {
      return counts.reduce((sum, match) => ({ live: sum.live + Number(match[1]), tombstones: sum.tombstones + Number(match[2]) }), { live: 0, tombstones: 0 });
    }
    await sleep(100);
  }
  throw new Error(`no read event in the trace of: ${query}`);
}

/** What one scenario wrote: enough to name every partition its writes touched. */
interface Written {
  channelId: string;
  messageIds: bigint[];
  parents: bigint[];
  mentioned: string[];
  nonces: { authorId: string; nonce: string }[];
  telegram?: { chatId: number; messageIds: number[] };
  fromMs: number;
  toMs: number;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}

const dayOf = (ms: number) => Math.floor(ms / 86_400_000);

/** Live rows and tombstones per table over every partition (or own clustering prefix) the scenario wrote. */
async function countAll(written: Written): Promise<Record<string, ReadCount>> {
  const { channelId } = written;
  const reads: [string, string, unknown[]][] = [];
  const add = (table: string, where: string, params: unknown[]) => reads.push([table, `SELECT * FROM ${table} WHERE ${where}`, params]);
  const ids = [...written.messageIds, ...written.parents];
  for (const bucket of new Set(ids.map(bucketOf))) {
    add('messages', 'channel_id = ? AND bucket = ?', [channelId, bucket]);
    add('message_reply_counts', 'channel_id = ? AND bucket = ?', [channelId, bucket]);
  }
  add('channel_buckets', 'channel_id = ?', [channelId]);
  add('channel_metadata', 'channel_id = ?', [channelId]);
  add('channel_members', 'channel_id = ?', [channelId]);
  add('channel_readers', 'channel_id = ?', [channelId]);
  add('pinned_messages', 'channel_id = ?', [channelId]);
  for (const day of new Set([dayOf(written.fromMs), dayOf(written.toMs)])) add('channel_changes', 'channel_id = ? AND day = ? AND audience = ?', [channelId, day, EVERYONE]);
  // The outbox partitions are shared with every channel written in the same 10 s: this channel's rows only.
  for (const slot of range(slotOf(written.fromMs), slotOf(written.toMs))) {
    for (const shard of new Set(ids.map(outboxShard))) add('message_search_outbox', 'shard = ? AND slot = ? AND channel_id = ?', [shard, Long.fromNumber(slot), channelId]);
  }
  for (const userId of new Set(written.mentioned)) add('message_mentions', 'channel_id = ? AND user_id = ?', [channelId, userId]);
  for (const parent of new Set(written.parents)) {
    add('message_replies', 'channel_id = ? AND parent_id = ?', [channelId, Long.fromString(parent.toString())]);
    for (const day of new Set([activityDay(written.fromMs), activityDay(written.toMs)])) {
      add('reply_activity', 'day = ? AND shard = ? AND channel_id = ?', [day, Number(parent % 16n), channelId]);
    }
  }
  for (const { authorId, nonce } of written.nonces) add('message_nonces', 'channel_id = ? AND author_id = ? AND nonce = ?', [channelId, authorId, nonce]);
  if (written.telegram) {
    const chat = Long.fromNumber(written.telegram.chatId);
    for (const id of written.telegram.messageIds) add('telegram_message_mapping', 'telegram_message_id = ? AND telegram_chat_id = ?', [Long.fromNumber(id), chat]);
    for (const bucket of new Set(written.telegram.messageIds.map(indexBucketOf))) add('telegram_channel_index', 'channel_id = ? AND bucket = ?', [channelId, bucket]);
    add('telegram_channel_index_buckets', 'channel_id = ?', [channelId]);
    for (const day of new Set([logDayOf(written.fromMs), logDayOf(written.toMs)])) add('telegram_ingest_log', 'channel_id = ? AND day = ?', [channelId, day]);
    add('telegram_sync_state', 'channel_id = ?', [channelId]);
    add('telegram_ingest_counts', 'channel_id = ?', [channelId]);
    add('channel_telegram_chats', 'channel_id = ?', [channelId]);
  }
  const counted = await Promise.all(reads.map(async ([table, query, params]) => [table, await countRead(query, params)] as const));
  const totals: Record<string, ReadCount> = {};
  for (const [table, count] of counted) {
    const total = (totals[table] ??= { live: 0, tombstones: 0 });
    total.live += count.live;
    total.tombstones += count.tombstones;
  }
  return totals;
}

async function appChannel(memberCount: number): Promise<{ owner: ApiClient; members: ApiClient[]; channelId: string }> {
  const owner = await api.user();
  const created = await owner.post('/channels', { name: 'tombstones' });
  expect(created.status).toBe(201);
  const members: ApiClient[] = [];
  for (let index = 0; index < memberCount; index++) {
    const member = await api.user();
    expect((await owner.put(`/channels/${created.body.id}/members/${member.userId}`)).status).toBe(204);
    members.push(member);
  }
  return { owner, members, channelId: created.body.id as string };
}

async function post(client: ApiClient, channelId: string, body: Record<string, unknown>): Promise<bigint> {
  const response = await client.post(`/channels/${channelId}/messages`, body);
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return BigInt(response.body.id as string);
}

const attachment = {
  id: 'file-1',
  url: 'https://cdn.example.com/files/1.png',
  filename: '1.png',
  content_type: 'image/png',
  size: 1234,
  width: 640,
  height: 480,
};

/** Each insert shape in a channel of its own, so each table's figures are that shape's alone. */
const appShapes: Record<string, (owner: ApiClient, members: ApiClient[], channelId: string, written: Written) => Promise<void>> = {
  'no optional field': async (owner, _members, channelId, written) => {
    written.messageIds.push(await post(owner, channelId, { content: 'plain' }));
  },
  'a reply': async (owner, _members, channelId, written) => {
    const parent = await post(owner, channelId, { content: 'parent' });
    written.messageIds.push(await post(owner, channelId, { content: 'reply', reply_to_id: parent.toString() }));
    written.parents.push(parent);
  },
  'mentions and attachments': async (owner, members, channelId, written) => {
    const mentions = members.map((member) => member.userId);
    written.messageIds.push(await post(owner, channelId, { content: 'hello all', mentions, attachments: [attachment] }));
    written.mentioned.push(...mentions);
  },
  'a nonce (and its retry)': async (owner, _members, channelId, written) => {
    const body = { content: 'once', nonce: 'n-1' };
    written.messageIds.push(await post(owner, channelId, body));
    const retry = await owner.post(`/channels/${channelId}/messages`, body);
    expect(retry.status).toBe(200);
    written.nonces.push({ authorId: owner.userId, nonce: 'n-1' });
  },
  'everything at once: reply, mentions, attachments, nonce': async (owner, members, channelId, written) => {
    const parent = await post(owner, channelId, { content: 'parent' });
    const mentions = [members[0]!.userId];
    written.messageIds.push(
      await post(owner, channelId, { content: 'all', reply_to_id: parent.toString(), mentions, attachments: [attachment], nonce: 'n-2' }),
    );
    written.parents.push(parent);
    written.mentioned.push(...mentions);
    written.nonces.push({ authorId: owner.userId, nonce: 'n-2' });
  },
};

const deliver = (body: unknown) => deliverTo(api, body);

async function ingested(body: unknown): Promise<bigint> {
  const response = await deliver(body);
  expect(response.status).toBe(200);
  expect(['stored', 'edited', 'duplicate']).toContain(response.body.status);
  return BigInt(response.body.message_id as string);
}

/** Telegram shapes: each in a channel linked to a chat of its own. */
const telegramShapes: Record<string, (chatId: number, written: Written) => Promise<void>> = {
  'a text message (and its redelivery)': async (chatId, written) => {
    const message = textMessage(chatId, 1, 'from Telegram');
    written.messageIds.push(await ingested(update('message', message)));
    await ingested(update('message', message));
    written.telegram!.messageIds.push(1);
  },
  'a reply, in a forum topic': async (chatId, written) => {
    const parent = textMessage(chatId, 1, 'parent');
    written.parents.push(await ingested(update('message', parent)));
    const reply = { ...textMessage(chatId, 2, 'reply'), is_topic_message: true, message_thread_id: 7, reply_to_message: parent };
    written.messageIds.push(await ingested(update('message', reply as never)));
    written.telegram!.messageIds.push(1, 2);
  },
  'a photo with a caption, and a captionless sticker': async (chatId, written) => {
    const photo = { ...textMessage(chatId, 1, ''), text: undefined, caption: 'a caption', photo: [{ file_id: 'p', file_unique_id: 'pu', width: 1, height: 1 }] };
    const sticker = {
      ...textMessage(chatId, 2, ''),
      text: undefined,
      sticker: { file_id: 's', file_unique_id: 'su', type: 'regular', width: 512, height: 512, is_animated: false, is_video: false },
    };
    written.messageIds.push(await ingested(update('message', photo)), await ingested(update('message', sticker as never)));
    written.telegram!.messageIds.push(1, 2);
  },
  'first seen as an edit (edited_message before the message)': async (chatId, written) => {
    const message = textMessage(chatId, 1, 'edited first');
    written.messageIds.push(await ingested(update('edited_message', { ...message, edit_date: message.date + 30 })));
    written.telegram!.messageIds.push(1);
  },
  'a channel post': async (chatId, written) => {
    const post = { ...textMessage(chatId, 1, 'post'), from: undefined, sender_chat: { id: chatId, type: 'channel', title: 'c' } };
    written.messageIds.push(await ingested(update('channel_post', post as never)));
    written.telegram!.messageIds.push(1);
  },
};

function emptyWritten(channelId: string): Written {
  return { channelId, messageIds: [], parents: [], mentioned: [], nonces: [], fromMs: Date.now(), toMs: 0 };
}

/** Tables every message write must have touched: a zero there would mean the read missed the data. */
const MESSAGE_TABLES = ['messages', 'channel_buckets', 'channel_metadata', 'channel_changes', 'message_search_outbox'];

describe('tombstones', () => {
  it.each(Object.entries(appShapes))('creating a message with %s leaves no tombstone in any table it writes', async (_shape, write) => {
    const { owner, members, channelId } = await appChannel(2);
    const written = emptyWritten(channelId);
    await write(owner, members, channelId, written);
    written.toMs = Date.now();
    const counts = await countAll(written);
    console.info(`tombstones after creating a message with ${_shape}: ${JSON.stringify(counts)}`);
    for (const table of MESSAGE_TABLES) expect(counts[table]!.live, table).toBeGreaterThan(0);
    if (written.mentioned.length > 0) expect(counts.message_mentions!.live).toBe(written.mentioned.length);
    if (written.parents.length > 0) expect(counts.message_replies!.live).toBe(written.parents.length);
    if (written.nonces.length > 0) expect(counts.message_nonces!.live).toBe(written.nonces.length);
    for (const [table, count] of Object.entries(counts)) expect(count.tombstones, table).toBe(0);
  });

  it.each(Object.entries(telegramShapes))('ingesting %s from Telegram leaves no tombstone in any table it writes', async (_shape, write) => {
    const { channelId, chatId } = await linkedChannel(api);
    const written: Written = { ...emptyWritten(channelId), telegram: { chatId, messageIds: [] } };
    await write(chatId, written);
    written.toMs = Date.now();
    const counts = await countAll(written);
    console.info(`tombstones after ingesting ${_shape}: ${JSON.stringify(counts)}`);
    for (const table of [...MESSAGE_TABLES, 'telegram_message_mapping', 'telegram_channel_index', 'telegram_ingest_log', 'telegram_sync_state']) {
      expect(counts[table]!.live, table).toBeGreaterThan(0);
    }
    expect(counts.telegram_message_mapping!.live).toBe(written.telegram!.messageIds.length);
    for (const [table, count] of Object.entries(counts)) expect(count.tombstones, table).toBe(0);
  });

  it('measures what edits and deletes leave in the messages table (TWCS) and beside it', async () => {
    const { owner, members, channelId } = await appChannel(2);
    const [m1, m2] = members.map((member) => member.userId) as [string, string];
    const written = emptyWritten(channelId);
    const a = await post(owner, channelId, { content: 'a' });
    const b = await post(owner, channelId, { content: 'b', mentions: [m1, m2], attachments: [attachment] });
    const c = await post(owner, channelId, { content: 'c', reply_to_id: a.toString() });
    const d = await post(owner, channelId, { content: 'd (pinned)' });
    const e = await post(owner, channelId, { content: 'e' });
    expect((await owner.put(`/channels/${channelId}/pins/${d}`)).status).toBe(204);
    written.messageIds.push(b, c, d, e);
    written.parents.push(a);
    written.mentioned.push(m1, m2);

    const figures: Record<string, Record<string, number>> = {};
    let before = await countAll({ ...written, toMs: Date.now() });
    for (const [table, count] of Object.entries(before)) expect(count.tombstones, `${table} after the creates`).toBe(0);
    /** Runs a step and returns the tombstones it added, per table (tables with none left out). */
    const step = async (name: string, act: () => Promise<unknown>): Promise<Record<string, number>> => {
      await act();
      const after = await countAll({ ...written, toMs: Date.now() });
      const added: Record<string, number> = {};
      for (const [table, count] of Object.entries(after)) {
        const delta = count.tombstones - (before[table]?.tombstones ?? 0);
        if (delta !== 0) added[table] = delta;
      }
      before = after;
      figures[name] = added;
      return added;
    };
    const edit = (id: bigint, body: Record<string, unknown>) => owner.patch(`/channels/${channelId}/messages/${id}`, body).then((r) => expect(r.status).toBe(200));
    const remove = (id: bigint) => owner.delete(`/channels/${channelId}/messages/${id}`).then((r) => expect(r.status).toBe(204));

    // An edit overwrites cells: the earlier values stay behind as shadowed cells until compaction, never tombstones.
    expect.soft(await step('edit content', () => edit(a, { content: 'a, edited' }))).toEqual({});
    // A mention dropped by an edit deletes its row in message_mentions: one row tombstone per user dropped.
    expect.soft(await step('edit: drop one mention', () => edit(b, { content: 'b, edited', mentions: [m1] }))).toEqual({ message_mentions: 1 });
    // Clearing the mentions must write a value too: cassandra-driver encodes a bound empty array as null, which the
    // node stores as a tombstone cell, so the statement has to say `mentions = []` itself (a literal is a value).
    expect.soft(await step('edit: drop the last mention', () => edit(b, { mentions: [] }))).toEqual({ message_mentions: 1 });
    // A soft delete writes plain cells on the message row (deleted, content, mentions, attachments), no tombstone
    // in the TWCS table. Beside it: the pin row is deleted blindly, so even a message never pinned leaves one row
    // tombstone in the channel's pins partition (read whole by every list of pins).
    expect.soft(await step('delete a plain message', () => remove(e))).toEqual({ pinned_messages: 1 });
    expect.soft(await step('delete a reply', () => remove(c))).toEqual({ pinned_messages: 1, message_replies: 1 });
    expect.soft(await step('delete a pinned message', () => remove(d))).toEqual({ pinned_messages: 1 });
    expect.soft(await step('delete a message with mentions and attachments', () => remove(b))).toEqual({ pinned_messages: 1 });
    const messagesPartition = before.messages!;
    expect.soft(messagesPartition).toEqual({ live: 5, tombstones: 0 });

    // The control: the same read does count a tombstone in the messages table when there is one (a null bound).
    const client = await getScylla();
    await client.execute('UPDATE messages SET reply_to_id = ? WHERE channel_id = ? AND bucket = ? AND message_id = ?', [null, channelId, bucketOf(a), Long.fromString(a.toString())], {
      prepare: true,
    });
    expect.soft(await step('control: bind null to reply_to_id', async () => undefined)).toEqual({ messages: 1 });
    console.info(`tombstones added by each edit and delete: ${JSON.stringify(figures)}`);
  }, 120_000);

  it('measures what Telegram edits leave: none', async () => {
    const { channelId, chatId } = await linkedChannel(api);
    const message = { ...textMessage(chatId, 1, 'v1'), caption: undefined };
    const written: Written = { ...emptyWritten(channelId), telegram: { chatId, messageIds: [1] } };
    written.messageIds.push(await ingested(update('message', message)));
    await ingested(update('edited_message', { ...message, text: 'v3', edit_date: message.date + 120 }));
    await ingested(update('edited_message', { ...message, text: 'v2', edit_date: message.date + 60 }));
    const photo = { ...message, text: undefined, caption: 'now a photo', photo: [{ file_id: 'p', file_unique_id: 'pu', width: 1, height: 1 }], edit_date: message.date + 180 };
    await ingested(update('edited_message', photo));
    written.toMs = Date.now();
    const counts = await countAll(written);
    console.info(`tombstones after a Telegram message and three edits: ${JSON.stringify(counts)}`);
    expect(counts.messages).toEqual({ live: 1, tombstones: 0 });
    for (const [table, count] of Object.entries(counts)) expect(count.tombstones, table).toBe(0);
  });
});

