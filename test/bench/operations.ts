/**
 * The operations the bench compares, each as a pair: the handler end to end (API Gateway v2 event in, response
 * out) and its floor, the Scylla statements that operation must send, through the app's own client and pool
 * (lib/scylla/execute.ts on getScylla()) by calling the store functions that build them, never copied CQL.
 * The floors live here and only here; `statementCheck` compares, on a live call, what each handler sends with
 * what its floor sends, so a floor that falls behind the code is reported, not silently compared.
 *
 * Used by run.ts (in-process, interleaved) and by concurrency-8.ts's worker processes (each its own client,
 * as Lambda containers are), on the same seeded fixture.
 */
import { randomUUID } from 'node:crypto';
import { lastMessageIdStatement } from '../../lib/channels/metadata-store.js';
import { EVERYONE, type ChangeRecord } from '../../lib/changes/model.js';
import { changeStatement } from '../../lib/changes/store.js';
import { getConfig } from '../../lib/config.js';
import { nextMessageId } from '../../lib/ids/worker-lease.js';
import { toMessageView, type MessageRecord } from '../../lib/messages/model.js';
import { claimNonce } from '../../lib/messages/nonce-store.js';
import { replyCountOf, replyCountsOf } from '../../lib/messages/replies.js';
import { getMessageRecord, insertMessage } from '../../lib/messages/store.js';
import { listBefore } from '../../lib/messages/timeline.js';
import { addReaction, reactionCount } from '../../lib/reactions/store.js';
import { getScylla } from '../../lib/scylla/client.js';
import { writeAtomically } from '../../lib/scylla/execute.js';
import { searchOutboxStatement } from '../../lib/search/outbox.js';
import { findTelegramMessage } from '../../lib/telegram/store.js';
import { LOCAL_SERVICE_AUDIENCE } from '../../infra/local/jwt.js';
import { apigwEvent, lambdaContext, type EventInput } from '../support/apigw.js';

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode?: number; body?: string }>;

export async function handlerOf(name: string): Promise<Handler> {
  return ((await import(`../../functions/${name}.ts`)) as { handler: Handler }).handler;
}

/** Calls a handler; an answer other than `expected` is an error (counted by the bench, never dropped). */
export async function invoke(handler: Handler, input: EventInput, expected: number): Promise<any> {
  const result = await handler(apigwEvent(input), lambdaContext());
  if (result.statusCode !== expected) throw new Error(`${input.method} ${input.route}: ${result.statusCode} ${result.body?.slice(0, 200)}`);
  return result.body ? JSON.parse(result.body) : undefined;
}

/** What the seed leaves for every process of the bench: the ids the operations read and write. */
export interface Fixture {
  channelId: string;
  userId: string;
  telegramChatId: number;
  /** Messages created through the handler, oldest first. */
  created: string[];
  /** Channels of their own owners, for creates whose access check reads a different row each call. */
  spread: { channelId: string; userId: string }[];
}

export const BENCH_USER = '0b6a3b7e-6c1d-4f5e-8a9b-1c2d3e4f5a6b';

/** Seeds the fixture through the handlers (channels, 200 messages, one Telegram message, `spreadChannels` channels). */
export async function seedFixture(spreadChannels = 200): Promise<Fixture> {
  const createChannel = await handlerOf('create-channel');
  const createMessage = await handlerOf('create-message');
  const webhook = await handlerOf('telegram-webhook');
  const claims = { sub: BENCH_USER };
  const telegramChatId = -100_000_000_0000 - Math.floor(Math.random() * 1e6);
  // Linking a Telegram chat is a service principal's act; the bench user owns the channel all the same.
  const channel = await invoke(createChannel, { method: 'POST', route: '/channels', claims: { ...claims, scope: 'messages:service', aud: LOCAL_SERVICE_AUDIENCE }, body: { name: 'bench', telegram_chat_id: telegramChatId } }, 201);
  const created: string[] = [];
  for (let i = 0; i < 200; i++) {
    const message = await invoke(createMessage, { method: 'POST', route: '/channels/{channel_id}/messages', params: { channel_id: channel.id }, claims, body: { content: `seed message ${i} about deployments and latency` } }, 201);
    created.push(message.id);
  }
  await invoke(webhook, telegramWebhookInput(telegramChatId, 1), 200);
  const spread: Fixture['spread'] = [];
  for (let i = 0; i < spreadChannels; i++) {
    const userId = randomUUID();
    const own = await invoke(createChannel, { method: 'POST', route: '/channels', claims: { sub: userId }, body: { name: `spread ${i}` } }, 201);
    spread.push({ channelId: own.id, userId });
  }
  return { channelId: channel.id, userId: BENCH_USER, telegramChatId, created, spread };
}

function telegramWebhookInput(chatId: number, id: number): EventInput {
  return {
    method: 'POST',
    route: '/telegram/webhook',
    body: { update_id: id, message: { message_id: id, date: Math.floor(Date.now() / 1000), chat: { id: chatId, type: 'supergroup' }, from: { id: 7, is_bot: false, first_name: 'B' }, text: `telegram ${id}` } },
    headers: { 'x-telegram-bot-api-secret-token': process.env.TELEGRAM_WEBHOOK_SECRET ?? '' },
  };
}

// ---- The floors: what each operation must send to Scylla, through the store functions that build it. ----

/**
 * The write a create must do: the message row, its `message.created` change record, the channel's
 * last_message_id and the message's search-outbox row, one logged batch (lib/use-cases/messages.ts
 * persistMessage → insertMessage with the others along; an app message's id is its change's id). The bucket-index entry rides along once per container and
 * bucket, as in the handler. Keep in step with persistMessage: statementCheck('createMessage') says when not.
 */
async function createWrite(message: MessageRecord): Promise<void> {
  const change: ChangeRecord = { id: message.id, channelId: message.channelId, type: 'message.created', audience: EVERYONE, body: { message: toMessageView(message) } };
  await insertMessage(message, undefined, {
    statements: [changeStatement(change), lastMessageIdStatement(message.channelId, message.id), searchOutboxStatement(message.channelId, message.id, 'index')],
    options: { readTimeout: getConfig().changes.writeDeadlineMs },
  });
}

async function newMessage(channelId: string, authorId: string, content: string): Promise<MessageRecord> {
  return { channelId, id: await nextMessageId(), authorId, content, editedAt: null, replyToId: null, source: 'app', telegram: null, deleted: false, mentions: [], attachments: [] };
}

/** A token unique across the bench's processes and both arms (emoji names, nonces). */
let counter = 0;
const unique = (prefix: string) => `${prefix}${process.pid.toString(36)}x${(counter++).toString(36)}`;

export interface Operation {
  handler: (i: number) => Promise<unknown>;
  floor: (i: number) => Promise<unknown>;
  /** The floor in words, for the report's conditions. */
  floorIs: string;
}

export type OperationName = 'systemLocal' | 'getMessage' | 'listMessages' | 'telegramMessage' | 'createMessage' | 'createWithNonce' | 'createSpread' | 'addReaction';

export async function operations(f: Fixture): Promise<Record<OperationName, Operation>> {
  const h = {
    getMessage: await handlerOf('get-message'),
    listMessages: await handlerOf('list-messages'),
    telegramMessage: await handlerOf('get-telegram-message'),
    createMessage: await handlerOf('create-message'),
    putReaction: await handlerOf('put-reaction'),
  };
  const claims = { sub: f.userId };
  const pick = (i: number) => BigInt(f.created[i % f.created.length]!);
  const older = (i: number) => BigInt(f.created[150 + (i % 40)]!);
  const systemLocal = async () => (await getScylla()).execute('SELECT release_version FROM system.local', [], { prepare: true });
  const createInput = (channelId: string, sub: string, body: Record<string, unknown>): EventInput => ({ method: 'POST', route: '/channels/{channel_id}/messages', params: { channel_id: channelId }, claims: { sub }, body });
  return {
    systemLocal: { handler: systemLocal, floor: systemLocal, floorIs: 'SELECT release_version FROM system.local against itself (A/A: the noise floor)' },
    getMessage: {
      handler: (i) => invoke(h.getMessage, { method: 'GET', route: '/channels/{channel_id}/messages/{message_id}', params: { channel_id: f.channelId, message_id: String(pick(i)) }, claims }, 200),
      floor: (i) => Promise.all([getMessageRecord(f.channelId, pick(i)), replyCountOf(f.channelId, pick(i))]),
      floorIs: 'the message row and its reply count, side by side (getMessageRecord ‖ replyCountOf)',
    },
    listMessages: {
      handler: (i) => invoke(h.listMessages, { method: 'GET', route: '/channels/{channel_id}/messages', params: { channel_id: f.channelId }, query: { limit: '50', before: String(older(i)) }, claims }, 200),
      floor: async (i) => {
        const records = await listBefore(f.channelId, older(i), 50);
        await replyCountsOf(f.channelId, records.map((record) => record.id));
      },
      floorIs: 'a page of 50 (listBefore: bucket index + bucket reads), then its reply counts (replyCountsOf)',
    },
    telegramMessage: {
      handler: () => invoke(h.telegramMessage, { method: 'GET', route: '/telegram/chats/{telegram_chat_id}/messages/{telegram_message_id}', params: { telegram_chat_id: String(f.telegramChatId), telegram_message_id: '1' }, claims }, 200),
      floor: async () => {
        const mapping = await findTelegramMessage(f.telegramChatId, 1);
        await Promise.all([getMessageRecord(mapping!.channelId, mapping!.messageId), replyCountOf(mapping!.channelId, mapping!.messageId)]);
      },
      floorIs: 'the Telegram id mapping, then the message row ‖ its reply count',
    },
    createMessage: {
      handler: (i) => invoke(h.createMessage, createInput(f.channelId, f.userId, { content: `bench ${i}` }), 201),
      floor: async (i) => createWrite(await newMessage(f.channelId, f.userId, `bench ${i}`)),
      floorIs: 'the logged batch of the message row + its message.created change + last_message_id + its search-outbox row (insertMessage with changeStatement, lastMessageIdStatement, searchOutboxStatement)',
    },
    createWithNonce: {
      handler: (i) => invoke(h.createMessage, createInput(f.channelId, f.userId, { content: `bench ${i}`, nonce: unique('n') }), 201),
      floor: async (i) => {
        const message = await newMessage(f.channelId, f.userId, `bench ${i}`);
        await claimNonce(f.channelId, f.userId, unique('n'), message);
        await createWrite(message);
      },
      floorIs: 'the nonce claim (a conditional insert, Paxos), then the create batch',
    },
    createSpread: {
      // A different channel and author each call: the access check and the rate limit read another row or key.
      handler: (i) => {
        const s = f.spread[i % f.spread.length]!;
        return invoke(h.createMessage, createInput(s.channelId, s.userId, { content: `bench ${i}` }), 201);
      },
      floor: async (i) => {
        const s = f.spread[(i + 1) % f.spread.length]!;
        await createWrite(await newMessage(s.channelId, s.userId, `bench ${i}`));
      },
      floorIs: `the create batch, rotating over ${f.spread.length} channels of their own owners`,
    },
    addReaction: {
      // A new emoji each call, in both arms: the conditional insert applies, so the counter and the change follow.
      handler: (i) => invoke(h.putReaction, { method: 'PUT', route: '/channels/{channel_id}/messages/{message_id}/reactions/{emoji}', params: { channel_id: f.channelId, message_id: String(pick(i)), emoji: `:${unique('h')}:` }, claims }, 204),
      floor: async (i) => {
        const emoji = `:${unique('f')}:`;
        await getMessageRecord(f.channelId, pick(i));
        if (!(await addReaction(f.channelId, pick(i), emoji, f.userId))) throw new Error('floor: the reaction was not new');
        await reactionCount(f.channelId, pick(i), emoji);
        const change: ChangeRecord = { id: await nextMessageId(), channelId: f.channelId, type: 'reaction.added', audience: EVERYONE, body: { message_id: pick(i).toString(), user_id: f.userId, emoji, count: 1 } };
        await writeAtomically([changeStatement(change)], { readTimeout: getConfig().changes.writeDeadlineMs });
      },
      floorIs: 'the message read, the activity mark, the conditional insert (Paxos), the counter, the count read and the change row, in sequence, with a new emoji each call',
    },
  };
}

/** The statements one call sends through the app's client, in order (execute and batch), as query texts. */
export async function recordStatements(call: () => Promise<unknown>): Promise<string[][]> {
  const client = await getScylla();
  const sent: string[][] = [];
  const execute = client.execute.bind(client);
  const batch = client.batch.bind(client);
  // Recording only: the calls go through unchanged; the originals are put back right after.
  (client as any).execute = (query: string, ...rest: unknown[]) => {
    sent.push([query]);
    return (execute as any)(query, ...rest);
  };
  (client as any).batch = (queries: { query: string }[], ...rest: unknown[]) => {
    sent.push(queries.map((q) => (typeof q === 'string' ? q : q.query)));
    return (batch as any)(queries, ...rest);
  };
  try {
    await call();
  } finally {
    (client as any).execute = execute;
    (client as any).batch = batch;
  }
  return sent;
}

const BACKGROUND = /snowflake_worker_leases/;
const short = (query: string) => query.replace(/\s+/g, ' ').slice(0, 90);
const isWrite = (query: string) => !/^\s*SELECT/i.test(query);

/**
 * Runs the handler and the floor once each, recording their statements: every floor statement must be one the
 * handler sends, and the handler's writes must be the floor's writes (a batch counted as its statements). A
 * mismatch means the floor no longer matches the code: the result says so and the report shows it.
 */
export async function statementCheck(op: Operation, i: number): Promise<{ inSync: boolean; handler: string[][]; floor: string[][]; problems: string[] }> {
  // The worker-id lease renews itself in the background (lib/ids/worker-lease.ts), whoever is running when it
  // falls due: it belongs to neither arm.
  const own = (calls: string[][]) => calls.map((c) => c.filter((q) => !BACKGROUND.test(q))).filter((c) => c.length > 0);
  const handler = own(await recordStatements(() => op.handler(i)));
  const floor = own(await recordStatements(() => op.floor(i + 1)));
  const flat = (calls: string[][]) => calls.flat();
  const problems: string[] = [];
  const handlerSet = new Set(flat(handler));
  for (const query of flat(floor)) if (!handlerSet.has(query)) problems.push(`floor sends what the handler does not: ${short(query)}`);
  const writes = (calls: string[][]) => flat(calls).filter(isWrite).sort();
  const [hw, fw] = [writes(handler), writes(floor)];
  if (hw.join('\n') !== fw.join('\n')) problems.push(`writes differ: handler [${hw.map(short).join('; ')}] floor [${fw.map(short).join('; ')}]`);
  const batches = (calls: string[][]) => calls.filter((c) => c.length > 1).map((c) => c.length);
  if (batches(handler).join() !== batches(floor).join()) problems.push(`batches differ: handler ${JSON.stringify(batches(handler))} floor ${JSON.stringify(batches(floor))}`);
  return { inSync: problems.length === 0, handler: handler.map((c) => c.map(short)), floor: floor.map((c) => c.map(short)), problems };
}
