import { describe, expect, it } from 'vitest';
import { read } from '../../lib/scylla/execute.js';
import { readSyncState } from '../../lib/telegram/sync-state-store.js';
import { useLocalApi } from '../support/api.js';
import { deliverTo, linkedChannel, randomChatId, textMessage, update } from '../support/telegram.js';
import cassandra from 'cassandra-driver';

const api = useLocalApi();

const deliver = (body: unknown, secret?: string | null) => deliverTo(api, body, secret);


describe('Telegram webhook', () => {
  it('refuses a missing or wrong secret with 401, before looking at the body', async () => {
    const missing = await deliver({ update_id: 1 }, null);
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('unauthorized');
    expect((await deliver({ update_id: 1 }, 'wrong')).status).toBe(401);
    expect((await deliver('not json at all', 'wrong')).status).toBe(401);
  });

  it('stores one message and one mapping when the same update arrives 50 times at once', async () => {
    const { owner, channelId, chatId } = await linkedChannel(api);
    const payload = update('message', textMessage(chatId, 77, 'hello from Telegram'));
    const responses = await Promise.all(Array.from({ length: 50 }, () => deliver(payload)));
    expect(responses.every((response) => response.status === 200)).toBe(true);
    const statuses = responses.map((response) => response.body.status);
    expect(statuses.filter((status) => status === 'stored')).toHaveLength(1);
    expect(statuses.filter((status) => status === 'duplicate')).toHaveLength(49);

    const list = await owner.get(`/channels/${channelId}/messages`);
    expect(list.body.messages).toHaveLength(1);
    const [message] = list.body.messages;
    expect(message).toMatchObject({ content: 'hello from Telegram', source: 'telegram', telegram: { chat_id: chatId, message_id: 77, thread_id: null } });
    const mappings = await read('SELECT message_id FROM telegram_message_mapping WHERE telegram_message_id = ? AND telegram_chat_id = ?', [
      cassandra.types.Long.fromNumber(77),
      cassandra.types.Long.fromNumber(chatId),
    ]);
    expect(mappings.rowLength).toBe(1);
    const state = await readSyncState(channelId);
    expect(state).toMatchObject({ telegramChatId: chatId, lastTelegramMessageId: 77, ingestedCount: 1 });
    expect(state.lastIngestedAt).toBeInstanceOf(Date);

    const byTelegram = await owner.get(`/telegram/chats/${chatId}/messages/77`);
    expect(byTelegram.body).toEqual(message);
    expect((await owner.get(`/telegram/chats/${chatId}/messages/78`)).status).toBe(404);
    // A non-member learns nothing: the ingested id answers as an id never ingested does (issue 14).
    expect((await (await api.user()).get(`/telegram/chats/${chatId}/messages/77`)).status).toBe(404);
  });

  it('acknowledges and skips updates for chats linked to no channel', async () => {
    const response = await deliver(update('message', textMessage(randomChatId(), 5, 'nobody listens')));
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ ok: true, status: 'skipped', reason: 'chat not linked to a channel' });
  });

  it('applies edits, keeps the newest when edits arrive out of order, and ignores redelivered edits', async () => {
    const { owner, channelId, chatId } = await linkedChannel(api);
    const original = textMessage(chatId, 10, 'first draft');
    await deliver(update('message', original));
    const newer = update('edited_message', { ...original, text: 'final text', edit_date: original.date + 120 });
    const older = update('edited_message', { ...original, text: 'second draft', edit_date: original.date + 60 });
    expect((await deliver(newer)).body.status).toBe('edited');
    expect((await deliver(older)).body.status).toBe('edited');
    await deliver(update('message', original));
    const message = (await owner.get(`/telegram/chats/${chatId}/messages/10`)).body;
    expect(message.content).toBe('final text');
    expect(message.edited_at).toBe(new Date((original.date + 120) * 1000).toISOString());
    expect((await owner.get(`/channels/${channelId}/messages`)).body.messages).toHaveLength(1);
  });

  it('stores channel posts, captions, media, replies and forum topics, in Telegram order', async () => {
    const { owner, channelId, chatId } = await linkedChannel(api);
    const base = Math.floor(Date.now() / 1000) - 7200;
    await deliver(update('channel_post', { ...textMessage(chatId, 1, 'post'), date: base, from: undefined, sender_chat: { id: chatId, type: 'channel', title: 'c' } } as never));
    await deliver(update('message', { ...textMessage(chatId, 3, ''), text: undefined, caption: 'a photo caption', photo: [{ file_id: 'x', file_unique_id: 'y', width: 1, height: 1 }], date: base + 10 }));
    await deliver(update('message', { ...textMessage(chatId, 2, ''), text: undefined, sticker: { file_id: 'st', file_unique_id: 'st-u', type: 'regular', width: 512, height: 512, is_animated: false, is_video: false, emoji: '🙂' }, date: base + 5 } as never));
    await deliver(update('message', { ...textMessage(chatId, 4, 'a reply'), date: base + 20, reply_to_message: textMessage(chatId, 1, 'post') } as never));
    await deliver(update('message', { ...textMessage(chatId, 5, 'in a topic'), date: base + 30, is_topic_message: true, message_thread_id: 99, reply_to_message: { ...textMessage(chatId, 99, ''), forum_topic_created: { name: 't', icon_color: 1 } } } as never));
    const skipped = await deliver(update('message', { ...textMessage(chatId, 6, ''), text: undefined, new_chat_members: [], date: base + 40 }));
    expect(skipped.body).toMatchObject({ status: 'skipped', reason: 'service message' });

    const list = (await owner.get(`/channels/${channelId}/messages`)).body.messages;
    expect(list.map((m: { content: string }) => m.content)).toEqual(['in a topic', 'a reply', 'a photo caption', '', 'post']);
    // Captionless media: content "" with the media as attachments.
    expect(list[3].attachments).toEqual([{ id: 'st-u', url: 'tg://file/st', filename: 'sticker.webp', content_type: 'image/webp', size: 0, width: 512, height: 512 }]);
    expect(list[2].attachments).toMatchObject([{ id: 'y', url: 'tg://file/x' }]);
    const post = list[4];
    expect(list[1].reply_to_id).toBe(post.id);
    expect(list[0].reply_to_id).toBeNull();
    expect(list[0].telegram.thread_id).toBe(99);
    expect(Date.parse(post.created_at)).toBe(base * 1000);
    expect(post.author_id).not.toBe(list[1].author_id);
  });

  it('answers malformed updates with 400 and stores nothing', async () => {
    const { owner, channelId, chatId } = await linkedChannel(api);
    for (const body of ['{"update_id": ', { update_id: 'x' }, { update_id: 1, message: { message_id: 1, chat: { id: chatId } } }]) {
      const response = await deliver(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    expect((await owner.get(`/channels/${channelId}/messages`)).body.messages).toEqual([]);
  });
});
