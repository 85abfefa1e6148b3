/**
 * The security findings of issue 14, each probed as an attacker would, through the local server (the same
 * handlers and route table as the Lambdas) against the real stores.
 */
import cassandra from 'cassandra-driver';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_SCOPE } from '../../lib/auth/principal.js';
import { getConfig, loadConfig } from '../../lib/config.js';
import { nextMessageId } from '../../lib/ids/worker-lease.js';
import type { MessageRecord } from '../../lib/messages/model.js';
import { insertMessage } from '../../lib/messages/store.js';
import { closePostgres, pgQuery } from '../../lib/postgres/pool.js';
import { countReactionRows, reactionCounts } from '../../lib/reactions/store.js';
import { closeRedis } from '../../lib/redis/client.js';
import { BACKLOG_SHARDS, backlogBatch, deadLetters, enqueueIndexing } from '../../lib/search/backlog.js';
import { write } from '../../lib/scylla/execute.js';
import { LOCAL_AUDIENCE, mintToken } from '../../infra/local/jwt.js';
import { useLocalApi, type ApiClient } from '../support/api.js';
import { deliverTo, linkedChannel, randomChatId, startTelegramStandIn, textMessage, update, type StandIn } from '../support/telegram.js';
import { withEnv } from '../support/env.js';

const api = useLocalApi();
const { Long } = cassandra.types;
const deliver = (body: unknown) => deliverTo(api, body);
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');


describe('finding 1: only a service principal links a Telegram chat, and a user learns nothing about a chat', () => {
  it('refuses every user path with the same answer, whether or not the chat is linked elsewhere', async () => {
    const { chatId: linkedChat, channelId: linkedChannelId } = await linkedChannel(api);
    const unlinkedChat = randomChatId();
    const mallory = await api.user();
    const own = (await mallory.post('/channels', { name: 'mine' })).body.id as string;
    for (const path of ['/channels', `/channels/${own}/telegram-link`] as const) {
      const answers = [];
      for (const chat of [linkedChat, unlinkedChat]) {
        const response = path === '/channels' ? await mallory.post(path, { name: 'grab', telegram_chat_id: chat }) : await mallory.post(path, { telegram_chat_id: chat });
        expect(response.status, `${path} ${JSON.stringify(response.body)}`).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
        answers.push({ status: response.status, body: response.body });
      }
      expect(answers[0], path).toEqual(answers[1]);
      expect(JSON.stringify(answers[0])).not.toMatch(/already|linked elsewhere|another channel/i);
    }
    const patched = await mallory.patch(`/channels/${own}`, { telegram_chat_id: unlinkedChat });
    expect(patched.status).toBe(400);
    // Nothing moved: the chat still routes to its channel, and mallory's channel has no chat.
    const { rows } = await pgQuery<{ id: string }>('SELECT id FROM chats WHERE telegram_chat_id = ANY($1::bigint[])', [[linkedChat, unlinkedChat]]);
    expect(rows.map((row) => row.id)).toEqual([linkedChannelId]);
    expect((await mallory.get(`/channels/${own}`)).body.telegram_chat_id).toBeNull();
  });
});

describe('finding 2: text PostgreSQL cannot store', () => {
  it('refuses U+0000 in attachment fields, nonces and template variable names with a 400, writing nothing', async () => {
    const owner = await api.user();
    const channelId = (await owner.post('/channels', { name: 'nul' })).body.id as string;
    const file = { id: 'f1', url: 'https://files.example/a.png', filename: 'a.png', content_type: 'image/png', size: 1 };
    const template = (await owner.post(`/channels/${channelId}/templates`, { name: 't', content: 'Hi {{who}}' })).body;
    const attempts: [string, unknown][] = [
      ['filename', { content: 'x', attachments: [{ ...file, filename: 'a\u0000.png' }] }],
      ['attachment id', { content: 'x', attachments: [{ ...file, id: 'f\u0000' }] }],
      ['content_type', { content: 'x', attachments: [{ ...file, content_type: 'image/png; x=\u0000' }] }],
      ['lone surrogate filename', { content: 'x', attachments: [{ ...file, filename: 'a\ud800.png' }] }],
      ['nonce', { content: 'x', nonce: 'n\u0000' }],
      ['variable name', { template_id: template.id, variables: { 'who\u0000': 'x' } }],
    ];
    for (const [what, body] of attempts) {
      const response = await owner.post(`/channels/${channelId}/messages`, body);
      expect(response.status, `${what}: ${JSON.stringify(response.body)}`).toBe(400);
      expect(response.body.error.code).toBe('invalid_request');
    }
    expect((await owner.get(`/channels/${channelId}/messages`)).body.messages).toEqual([]);
  });

  it('stores Telegram text carrying U+0000 with the NUL replaced (Telegram cannot be refused), searchable', async () => {
    const { owner, channelId, chatId } = await linkedChannel(api);
    const acked = await deliver(update('message', textMessage(chatId, 7, 'zeppelin\u0000cargo \ud800 done')));
    expect(acked.status).toBe(200);
    expect(acked.body.status).toBe('stored');
    const stored = await owner.get(`/telegram/chats/${chatId}/messages/7`);
    expect(stored.status).toBe(200);
    expect(stored.body.content).not.toContain('\u0000');
    expect(stored.body.content).toMatch(/^zeppelin.cargo . done$/u);
    const found = await owner.get(`/channels/${channelId}/search?q=zeppelin`);
    expect(found.body.messages.map((m: { id: string }) => m.id)).toEqual([stored.body.id]);
  });

  describe('the reconciler', () => {
    let standIn: StandIn;
    let reconcile: typeof import('../../functions/reconcile.js').handler;
    beforeAll(async () => {
      standIn = await startTelegramStandIn();
      process.env.TELEGRAM_BOT_TOKEN = '123456:test-token';
      process.env.TELEGRAM_API_URL = standIn.url;
      loadConfig();
      ({ handler: reconcile } = await import('../../functions/reconcile.js'));
    });
    afterAll(async () => {
      await standIn.close();
    });

    it('dead-letters a poisoned backlog job, drains the jobs behind it, and still repairs reaction counters', async () => {
      const owner = await api.user();
      const channelId = (await owner.post('/channels', { name: 'poison' })).body.id as string;
      const record = (id: bigint, content: string): MessageRecord => ({
        channelId, id, authorId: owner.userId, content, editedAt: null, replyToId: null, source: 'app', telegram: null, deleted: false, mentions: [], attachments: [],
      });
      // Written with the store, bypassing the API's refusal: content PostgreSQL will never take (22021).
      const poisoned = record(await nextMessageId(), 'poison \u0000 pill');
      const behind = record(poisoned.id + BigInt(BACKLOG_SHARDS), 'queued behind the poison');
      await insertMessage(poisoned);
      await insertMessage(behind);
      await enqueueIndexing(channelId, poisoned.id, 'index');
      await enqueueIndexing(channelId, behind.id, 'index');
      // And a drifted reaction counter, which the task after the drain must repair in the same run.
      const reacted = (await owner.post(`/channels/${channelId}/messages`, { content: 'react to me' })).body.id as string;
      await owner.put(`/channels/${channelId}/messages/${reacted}/reactions/${encodeURIComponent('👍')}`);
      await write("UPDATE message_reaction_counts SET count = count + 5 WHERE channel_id = ? AND message_id = ? AND emoji = '👍'", [channelId, Long.fromString(reacted)]);
      expect(Object.fromEntries(await reactionCounts(channelId, BigInt(reacted)))).toEqual({ '👍': 6 });
      await new Promise((resolve) => setTimeout(resolve, 300));

      const context = { getRemainingTimeInMillis: () => 120_000, awsRequestId: 'findings' } as unknown as Context;
      const report = await reconcile({}, context);
      expect(report.ran).toBe(true);
      const shard = Number(poisoned.id % BigInt(BACKLOG_SHARDS));
      expect((await backlogBatch(shard, 10_000)).filter((entry) => entry.channelId === channelId)).toEqual([]);
      expect((await deadLetters(shard, 10_000)).filter((entry) => entry.channelId === channelId).map((entry) => entry.messageId)).toEqual([poisoned.id]);
      const found = await owner.get(`/channels/${channelId}/search?q=queued`);
      expect(found.body.messages.map((m: { id: string }) => m.id)).toEqual([behind.id.toString()]);
      expect(report.reactions?.repaired).toBeGreaterThanOrEqual(1);
      expect(Object.fromEntries(await reactionCounts(channelId, BigInt(reacted)))).toEqual(Object.fromEntries(await countReactionRows(channelId, BigInt(reacted))));
      expect(Object.fromEntries(await reactionCounts(channelId, BigInt(reacted)))).toEqual({ '👍': 1 });
    });
  });
});

describe('finding 3: out-of-range numbers are a 400 with a code, never a 500', () => {
  it('refuses search cursors whose id or rank PostgreSQL cannot hold', async () => {
    const owner = await api.user();
    const channelId = (await owner.post('/channels', { name: 'cursors' })).body.id as string;
    for (const cursor of [[0.5, '9999999999999999999'], [0.5, '9223372036854775808'], [1e300, '1'], [-1e300, '1'], [1e-300, '1'], [0.5, '0']]) {
      const response = await owner.get(`/channels/${channelId}/search?q=x&cursor=${cursorOf(cursor)}`);
      expect(response.status, `${JSON.stringify(cursor)} → ${JSON.stringify(response.body)}`).toBe(400);
      expect(response.body.error.code).toBe('invalid_cursor');
    }
  });

  it('refuses channel-list cursors whose time no date can hold', async () => {
    const owner = await api.user();
    for (const t of [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 8.64e15 + 1]) {
      const response = await owner.get(`/channels?cursor=${cursorOf({ t, i: '2f1c0000-0000-4000-8000-000000000000' })}`);
      expect(response.status, `${t} → ${JSON.stringify(response.body)}`).toBe(400);
      expect(response.body.error.code).toMatch(/^[a-z_]+$/);
    }
  });

  it('refuses Telegram ids beyond 2^53 in the lookup path with a 400', async () => {
    const owner = await api.user();
    const response = await owner.get('/telegram/chats/-9999999999999999/messages/9999999999999999');
    expect(response.status).toBe(400);
  });

  it('acknowledges a Telegram update dated 2^40 (or edited then) as skipped with a reason, storing nothing', async () => {
    const { owner, chatId } = await linkedChannel(api);
    const far = 2 ** 40;
    for (const [kind, message] of [
      ['message', textMessage(chatId, 11, 'from the far future', { date: far })],
      ['edited_message', textMessage(chatId, 12, 'edited in the far future', { edit_date: far })],
    ] as const) {
      const acked = await deliver(update(kind, message));
      expect(acked.status, JSON.stringify(acked.body)).toBe(200);
      expect(acked.body).toEqual({ ok: true, status: 'skipped', reason: expect.stringMatching(/\S/) });
    }
    expect((await owner.get(`/telegram/chats/${chatId}/messages/11`)).status).toBe(404);
    expect((await owner.get(`/telegram/chats/${chatId}/messages/12`)).status).toBe(404);
  });
});

describe('finding 4: the anonymous readiness probe names no host, role or error', () => {
  it('answers only each store\'s status', async () => {
    const url = new URL(getConfig().postgres.url!);
    url.username = 'probe_secret_role';
    url.password = 'x';
    await withEnv({ DATABASE_URL: url.toString() }, closePostgres, async () => {
      const ready = await api.anonymous().get('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.postgres).toEqual({ status: 'unavailable' });
      const text = JSON.stringify(ready.body);
      expect(text).not.toContain('probe_secret_role');
      expect(text).not.toContain(url.hostname);
      expect(text).not.toContain('error');
    });
  });
});

describe('finding 5: the Telegram lookup tells a non-member nothing', () => {
  it('answers a non-member the same for an ingested id and for any other', async () => {
    const { owner, chatId } = await linkedChannel(api);
    expect((await deliver(update('message', textMessage(chatId, 21, 'members only')))).body.status).toBe('stored');
    expect((await owner.get(`/telegram/chats/${chatId}/messages/21`)).status).toBe(200);
    const mallory = await api.user();
    const ingested = await mallory.get(`/telegram/chats/${chatId}/messages/21`);
    const other = await mallory.get(`/telegram/chats/${chatId}/messages/22`);
    const otherChat = await mallory.get(`/telegram/chats/${randomChatId()}/messages/21`);
    expect(ingested.status).toBeGreaterThanOrEqual(400);
    expect({ status: ingested.status, body: ingested.body }).toEqual({ status: other.status, body: other.body });
    expect({ status: ingested.status, body: ingested.body }).toEqual({ status: otherChat.status, body: otherChat.body });
  });
});

describe('finding 6: a per-user read limit', () => {
  it('answers 429 with Retry-After past the limit, a 400 before it, and never limits a service', async () => {
    const owner = await api.user();
    const channelId = (await owner.post('/channels', { name: 'reads' })).body.id as string;
    const service = await api.user({ scope: SERVICE_SCOPE });
    await withEnv({ RATE_LIMIT_READS: '3', RATE_LIMIT_WINDOW_SECONDS: '3600' }, closeRedis, async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await owner.get(`/channels/${channelId}/messages`)).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      const limited = await owner.get(`/channels/${channelId}`);
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('rate_limited');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      // Malformed and over the limit: the 400 wins.
      expect((await owner.get(`/channels/${channelId}/messages?limit=0`)).status).toBe(400);
      for (let i = 0; i < 5; i++) expect((await service.get(`/channels/${channelId}/messages`)).status).toBe(200);
    });
  });
});

describe('finding 7: Telegram content never exceeds 4096 code points', () => {
  it('truncates an audio title and a document file name', async () => {
    const { owner, chatId } = await linkedChannel(api);
    const audio = textMessage(chatId, 31, '', { audio: { file_id: 'a', file_unique_id: 'ua', duration: 1, title: '🎵'.repeat(5000) } });
    delete (audio as { text?: string }).text;
    const documentMessage = textMessage(chatId, 32, '', { document: { file_id: 'd', file_unique_id: 'ud', file_name: `${'n'.repeat(1000)}.pdf` } });
    delete (documentMessage as { text?: string }).text;
    for (const message of [audio, documentMessage]) expect((await deliver(update('message', message))).body.status).toBe('stored');
    const audioStored = await owner.get(`/telegram/chats/${chatId}/messages/31`);
    expect([...audioStored.body.content].length).toBeLessThanOrEqual(4096);
    expect(audioStored.body.content).toMatch(/^\[audio: 🎵+…\]$/u);
    const documentStored = await owner.get(`/telegram/chats/${chatId}/messages/32`);
    const filename = documentStored.body.attachments[0].filename as string;
    expect([...filename].length).toBeLessThanOrEqual(255);
    expect(filename.endsWith('.pdf')).toBe(true);
  });
});

describe('finding 8: tokens', () => {
  it('refuses a `sub` that is not a lower-case UUID with 401 rather than acting as that user', async () => {
    const owner = await api.user();
    const channelId = (await owner.post('/channels', { name: 'mine' })).body.id as string;
    const impostor = api.withToken(await mintToken({ sub: owner.userId.toUpperCase() }));
    const response = await impostor.get(`/channels/${channelId}`);
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('unauthorized');
  });

  it('treats the service scope under the user audience as a plain user', async () => {
    const { channelId } = await linkedChannel(api);
    const userId = (await api.user()).userId;
    const posing = api.withToken(await mintToken({ sub: userId, scope: SERVICE_SCOPE, audience: LOCAL_AUDIENCE }));
    expect((await posing.get(`/channels/${channelId}`)).status).toBe(403);
    expect((await posing.post(`/channels/${channelId}/telegram-link`, { telegram_chat_id: randomChatId() })).status).toBe(403);
    const service = await api.user({ scope: SERVICE_SCOPE });
    expect((await service.get(`/channels/${channelId}`)).status).toBe(200);
  });
});

describe('finding 9: a chat linked a moment ago is not dropped as unlinked', () => {
  it('stores the first message after a link made by another container', async () => {
    const owner: ApiClient = await api.user();
    const channelId = (await owner.post('/channels', { name: 'late link' })).body.id as string;
    const chatId = randomChatId();
    expect((await deliver(update('message', textMessage(chatId, 41, 'before the link')))).body).toMatchObject({ status: 'skipped' });
    // Linked as another container's request would, so this container's cache is not told.
    await pgQuery('UPDATE chats SET telegram_chat_id = $1 WHERE id = $2', [chatId, channelId]);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const acked = await deliver(update('message', textMessage(chatId, 42, 'right after the link')));
    expect(acked.body).toMatchObject({ status: 'stored' });
  });
});
