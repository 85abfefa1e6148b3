import { describe, expect, it } from 'vitest';
import { SERVICE_SCOPE } from '../../lib/auth/principal.js';
import { countMentionsAfter, recordMentions } from '../../lib/mentions/store.js';
import { getMessageRecord, updateContent } from '../../lib/messages/store.js';
import { persistMessage } from '../../lib/use-cases/messages.js';
import { adjustReplyCount } from '../../lib/messages/replies.js';
import { Budget } from '../../lib/use-cases/reconciler/budget.js';
import { repairReplyCountDrift } from '../../lib/use-cases/reconciler/replies.js';
import { useLocalApi, type ApiClient, type ApiResponse } from '../support/api.js';
import { deliverTo, randomChatId, textMessage, update } from '../support/telegram.js';

const api = useLocalApi();

async function channelWith(memberCount: number): Promise<{ owner: ApiClient; members: ApiClient[]; channelId: string }> {
  const owner = await api.user();
  const created = await owner.post('/channels', { name: 'v2' });
  expect(created.status).toBe(201);
  const channelId: string = created.body.id;
  const members: ApiClient[] = [];
  for (let index = 0; index < memberCount; index++) {
    const member = await api.user();
    expect((await owner.put(`/channels/${channelId}/members/${member.userId}`)).status).toBe(204);
    members.push(member);
  }
  return { owner, members, channelId };
}

const attachment = (index: number) => ({
  id: `file-${index}`,
  url: `https://cdn.example.com/files/${index}.png`,
  filename: `${index}.png`,
  content_type: 'image/png',
  size: 1000 + index,
  width: 640,
  height: 480,
});

describe('mentions', () => {
  it('stores mentions with the message, counts them past the read position, and follows edits and deletes', async () => {
    const { owner, members, channelId } = await channelWith(3);
    const [ada, bob, cy] = members as [ApiClient, ApiClient, ApiClient];
    const first = await owner.post(`/channels/${channelId}/messages`, { content: 'hi @ada @bob', mentions: [ada.userId, bob.userId, ada.userId] });
    expect(first.status).toBe(201);
    expect(first.body.mentions).toEqual([ada.userId, bob.userId]);
    expect((await ada.get(`/channels/${channelId}/messages/${first.body.id}`)).body.mentions).toEqual([ada.userId, bob.userId]);
    const second = await owner.post(`/channels/${channelId}/messages`, { content: 'again @ada', mentions: [ada.userId] });
    expect((await owner.get(`/channels/${channelId}/messages`)).body.messages.map((m: { mentions: string[] }) => m.mentions)).toEqual([
      [ada.userId],
      [ada.userId, bob.userId],
    ]);

    expect(await countMentionsAfter(channelId, ada.userId, null, 100)).toEqual({ count: 2, capped: false });
    expect(await countMentionsAfter(channelId, ada.userId, null, 1)).toEqual({ count: 1, capped: true });
    expect(await countMentionsAfter(channelId, bob.userId, null, 100)).toEqual({ count: 1, capped: false });
    // The reader's position passes the first mention, then both.
    expect(await countMentionsAfter(channelId, ada.userId, BigInt(first.body.id), 100)).toEqual({ count: 1, capped: false });
    expect(await countMentionsAfter(channelId, ada.userId, BigInt(second.body.id), 100)).toEqual({ count: 0, capped: false });

    // An edit replaces the mentions: bob is dropped, cy added.
    const edited = await owner.patch(`/channels/${channelId}/messages/${first.body.id}`, { mentions: [ada.userId, cy.userId] });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ content: 'hi @ada @bob', mentions: [ada.userId, cy.userId], edited_at: expect.any(String) });
    expect(await countMentionsAfter(channelId, bob.userId, null, 100)).toEqual({ count: 0, capped: false });
    expect(await countMentionsAfter(channelId, cy.userId, null, 100)).toEqual({ count: 1, capped: false });
    expect((await owner.patch(`/channels/${channelId}/messages/${first.body.id}`, { content: 'no one', mentions: [] })).body.mentions).toEqual([]);
    expect(await countMentionsAfter(channelId, cy.userId, null, 100)).toEqual({ count: 0, capped: false });

    // A delete removes its mentions.
    expect((await owner.delete(`/channels/${channelId}/messages/${second.body.id}`)).status).toBe(204);
    expect(await countMentionsAfter(channelId, ada.userId, null, 100)).toEqual({ count: 0, capped: false });
  });

  it('writes mention rows only once the message row is written: a failed message write counts no mention', async () => {
    const { members, channelId } = await channelWith(1);
    const [ada] = members as [ApiClient];
    // The message write fails (an author id Scylla cannot take); its mention must not be counted.
    const broken = {
      channelId, id: 4_000_000_000_000_000n + BigInt(Math.floor(Math.random() * 1e9)), authorId: 'not-a-uuid', content: 'never stored', editedAt: null, replyToId: null,
      source: 'app' as const, telegram: null, deleted: false, mentions: [ada.userId], attachments: [],
    };
    await expect(persistMessage(broken)).rejects.toThrow();
    expect(await getMessageRecord(channelId, broken.id)).toBeUndefined();
    expect(await countMentionsAfter(channelId, ada.userId, null, 100)).toEqual({ count: 0, capped: false });
  });

  it('an edit that lost to a later concurrent edit leaves no mention row the message does not name', async () => {
    const { owner, members, channelId } = await channelWith(2);
    const [ada, bob] = members as [ApiClient, ApiClient];
    const created = await owner.post(`/channels/${channelId}/messages`, { content: 'who?' });
    const id = BigInt(created.body.id);
    // A concurrent edit naming bob, later than the PATCH below (its write timestamp is ahead), lands first: its
    // message row and mention row are written with its own timestamp, as an edit writes them.
    const later = (Date.now() + 60_000) * 1000;
    await updateContent(channelId, id, { content: 'who? @bob', editedAt: new Date(later / 1000), mentions: [bob.userId] }, later);
    await recordMentions(channelId, id, [bob.userId], later);
    // This edit names ada instead; it loses the message row to the later edit.
    expect((await owner.patch(`/channels/${channelId}/messages/${created.body.id}`, { mentions: [ada.userId] })).status).toBe(200);
    expect((await owner.get(`/channels/${channelId}/messages/${created.body.id}`)).body.mentions).toEqual([bob.userId]);
    // So bob's mention stays (this edit's removal is older than the later edit's write) and ada's is withdrawn.
    expect(await countMentionsAfter(channelId, bob.userId, null, 100)).toEqual({ count: 1, capped: false });
    expect(await countMentionsAfter(channelId, ada.userId, null, 100)).toEqual({ count: 0, capped: false });
  });

  it('refuses mentions of non-members, more than 50, and malformed ids', async () => {
    const { owner, members, channelId } = await channelWith(1);
    const stranger = await api.user();
    const refused = await owner.post(`/channels/${channelId}/messages`, { content: 'x', mentions: [members[0]!.userId, stranger.userId] });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('mention_not_member');
    expect(refused.body.error.message).toContain(stranger.userId);
    const many = Array.from({ length: 51 }, () => members[0]!.userId);
    expect((await owner.post(`/channels/${channelId}/messages`, { content: 'x', mentions: many })).status).toBe(400);
    expect((await owner.post(`/channels/${channelId}/messages`, { content: 'x', mentions: ['nope'] })).status).toBe(400);
    const message = await owner.post(`/channels/${channelId}/messages`, { content: 'x' });
    const editRefused = await owner.patch(`/channels/${channelId}/messages/${message.body.id}`, { mentions: [stranger.userId] });
    expect(editRefused.status).toBe(400);
    expect(editRefused.body.error.code).toBe('mention_not_member');
    expect((await owner.patch(`/channels/${channelId}/messages/${message.body.id}`, {})).status).toBe(400);
  });
});

describe('attachments', () => {
  it('round-trips attachment metadata through create, get, list, pins and search', async () => {
    const { owner, channelId } = await channelWith(0);
    const { width: _w, height: _h, ...noSize } = attachment(2);
    const created = await owner.post(`/channels/${channelId}/messages`, { content: 'pictures of zebras', attachments: [attachment(1), noSize] });
    expect(created.status).toBe(201);
    expect(created.body.attachments).toEqual([attachment(1), noSize]);
    const id = created.body.id;
    expect((await owner.get(`/channels/${channelId}/messages/${id}`)).body).toEqual(created.body);
    expect((await owner.get(`/channels/${channelId}/messages`)).body.messages).toEqual([created.body]);
    expect((await owner.put(`/channels/${channelId}/pins/${id}`)).status).toBe(204);
    expect((await owner.get(`/channels/${channelId}/pins`)).body.messages).toEqual([created.body]);
    expect((await owner.get(`/channels/${channelId}/search?q=zebras`)).body.messages).toEqual([created.body]);
  });

  it('refuses non-https URLs, more than 10 attachments and malformed entries', async () => {
    const { owner, channelId } = await channelWith(0);
    const post = (attachments: unknown) => owner.post(`/channels/${channelId}/messages`, { content: 'x', attachments });
    expect((await post([{ ...attachment(1), url: 'http://cdn.example.com/a.png' }])).status).toBe(400);
    expect((await post([{ ...attachment(1), url: 'tg://file/abc' }])).status).toBe(400);
    expect((await post(Array.from({ length: 11 }, (_, index) => attachment(index)))).status).toBe(400);
    expect((await post([{ ...attachment(1), size: -1 }])).status).toBe(400);
    expect((await post([{ ...attachment(1), extra: true }])).status).toBe(400);
    expect((await post(Array.from({ length: 10 }, (_, index) => attachment(index)))).status).toBe(201);
  });

  it('stores an attachment url normalised, so every response matches the response schema', async () => {
    const { owner, channelId } = await channelWith(0);
    const created = await owner.post(`/channels/${channelId}/messages`, {
      content: 'spaced',
      attachments: [{ ...attachment(1), url: 'https://CDN.example.com/a b/c\u00e9.png?x=1 2' }],
    });
    expect(created.status).toBe(201);
    expect(created.body.attachments[0].url).toBe('https://cdn.example.com/a%20b/c%C3%A9.png?x=1%202');
    expect((await owner.get(`/channels/${channelId}/messages/${created.body.id}`)).body.attachments[0].url).toBe('https://cdn.example.com/a%20b/c%C3%A9.png?x=1%202');
  });
});

describe('replies', () => {
  it('lists a thread oldest first, every reply exactly once across pages, and refuses replies across channels', async () => {
    const { owner, channelId } = await channelWith(0);
    const other = await channelWith(0);
    const parent = (await owner.post(`/channels/${channelId}/messages`, { content: 'parent' })).body;
    const foreign = (await other.owner.post(`/channels/${other.channelId}/messages`, { content: 'elsewhere' })).body;
    const across = await owner.post(`/channels/${channelId}/messages`, { content: 'x', reply_to_id: foreign.id });
    expect(across.status).toBe(400);
    expect(across.body.error.code).toBe('unknown_reply_target');

    const replies: string[] = [];
    for (let index = 0; index < 7; index++) {
      replies.push((await owner.post(`/channels/${channelId}/messages`, { content: `reply ${index}`, reply_to_id: parent.id })).body.id);
    }
    expect((await owner.get(`/channels/${channelId}/messages/${parent.id}`)).body.reply_count).toBe(7);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const response: ApiResponse = await owner.get(`/channels/${channelId}/messages/${parent.id}/replies?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(response.status).toBe(200);
      seen.push(...response.body.messages.map((m: { id: string; reply_to_id: string }) => {
        expect(m.reply_to_id).toBe(parent.id);
        return m.id;
      }));
      cursor = response.body.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(replies);

    // A deleted reply leaves the thread and the count.
    expect((await owner.delete(`/channels/${channelId}/messages/${replies[3]}`)).status).toBe(204);
    const after = await owner.get(`/channels/${channelId}/messages/${parent.id}/replies`);
    expect(after.body.messages.map((m: { id: string }) => m.id)).toEqual(replies.filter((_, index) => index !== 3));
    expect(after.body.next_cursor).toBeNull();
    expect((await owner.get(`/channels/${channelId}/messages`)).body.messages.find((m: { id: string }) => m.id === parent.id).reply_count).toBe(6);

    expect((await owner.get(`/channels/${channelId}/messages/${replies[3]}/replies`)).status).toBe(404);
    expect((await owner.get(`/channels/${channelId}/messages/${parent.id}/replies?limit=0`)).status).toBe(400);
    expect((await owner.get(`/channels/${channelId}/messages/${parent.id}/replies?cursor=abc`)).status).toBe(400);
    expect((await (await api.user()).get(`/channels/${channelId}/messages/${parent.id}/replies`)).status).toBe(403);
  });

  it('keeps reply_count exact under concurrent replies, nonce retries and concurrent deletes', async () => {
    const { owner, members, channelId } = await channelWith(2);
    const parent = (await owner.post(`/channels/${channelId}/messages`, { content: 'busy thread' })).body;
    const plain = Array.from({ length: 12 }, (_, index) =>
      members[index % 2]!.post(`/channels/${channelId}/messages`, { content: `r${index}`, reply_to_id: parent.id }),
    );
    // Five nonces, each sent six times at once: five replies.
    const retried = Array.from({ length: 5 }, (_, nonce) =>
      Array.from({ length: 6 }, () => owner.post(`/channels/${channelId}/messages`, { content: `n${nonce}`, reply_to_id: parent.id, nonce: `n-${nonce}` })),
    ).flat();
    const responses = await Promise.all([...plain, ...retried]);
    expect(responses.every((response) => response.status === 201 || response.status === 200)).toBe(true);
    expect(new Set(responses.map((response) => response.body.id)).size).toBe(17);
    expect((await owner.get(`/channels/${channelId}/messages/${parent.id}`)).body.reply_count).toBe(17);
    // A later retry of a nonce changes nothing.
    expect((await owner.post(`/channels/${channelId}/messages`, { content: 'n0', reply_to_id: parent.id, nonce: 'n-0' })).status).toBe(200);

    const victim = responses[0]!.body.id;
    const deletes = await Promise.all(Array.from({ length: 5 }, () => owner.delete(`/channels/${channelId}/messages/${victim}`)));
    expect(deletes.filter((response) => response.status === 204).length).toBeGreaterThanOrEqual(1);
    expect(deletes.every((response) => response.status === 204 || response.status === 404)).toBe(true);
    expect((await owner.get(`/channels/${channelId}/messages/${parent.id}`)).body.reply_count).toBe(16);
    expect((await owner.get(`/channels/${channelId}/messages/${parent.id}/replies?limit=100`)).body.messages).toHaveLength(16);
  });
});

describe('reply count drift', () => {
  it('is repaired by the reconciler task from the thread index', async () => {
    const { owner, channelId } = await channelWith(0);
    const parent = (await owner.post(`/channels/${channelId}/messages`, { content: 'parent' })).body;
    await owner.post(`/channels/${channelId}/messages`, { content: 'reply', reply_to_id: parent.id });
    await adjustReplyCount(channelId, BigInt(parent.id), 3);
    expect((await owner.get(`/channels/${channelId}/messages/${parent.id}`)).body.reply_count).toBe(4);
    const report = await repairReplyCountDrift(Budget.fromRemaining(60_000), 10);
    expect(report.repaired).toBeGreaterThanOrEqual(1);
    expect((await owner.get(`/channels/${channelId}/messages/${parent.id}`)).body.reply_count).toBe(1);
  });
});

describe('reaction users', () => {
  it('pages through who reacted, every user exactly once', async () => {
    const { owner, members, channelId } = await channelWith(6);
    const message = (await owner.post(`/channels/${channelId}/messages`, { content: 'react' })).body;
    const emoji = encodeURIComponent('👍');
    for (const user of [owner, ...members]) expect((await user.put(`/channels/${channelId}/messages/${message.id}/reactions/${emoji}`)).status).toBe(204);
    await members[0]!.put(`/channels/${channelId}/messages/${message.id}/reactions/${encodeURIComponent('🎉')}`);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const response: ApiResponse = await owner.get(`/channels/${channelId}/messages/${message.id}/reactions/${emoji}/users?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(response.status).toBe(200);
      expect(response.body.user_ids.length).toBeLessThanOrEqual(3);
      seen.push(...response.body.user_ids);
      cursor = response.body.next_cursor;
      if (!cursor) break;
    }
    expect(seen.sort()).toEqual([owner, ...members].map((user) => user.userId).sort());
    const party = await owner.get(`/channels/${channelId}/messages/${message.id}/reactions/${encodeURIComponent('🎉')}/users`);
    expect(party.body).toEqual({ user_ids: [members[0]!.userId], next_cursor: null });
    expect((await owner.get(`/channels/${channelId}/messages/${message.id}/reactions/${emoji}/users?limit=101`)).status).toBe(400);
    expect((await owner.get(`/channels/${channelId}/messages/${message.id}/reactions/${emoji}/users?cursor=zzz`)).status).toBe(400);
    expect((await owner.get(`/channels/${channelId}/messages/${message.id}/reactions/notanemoji/users`)).status).toBe(400);
    expect((await owner.get(`/channels/${channelId}/messages/1234567/reactions/${emoji}/users`)).status).toBe(404);
    expect((await (await api.user()).get(`/channels/${channelId}/messages/${message.id}/reactions/${emoji}/users`)).status).toBe(403);
  });
});

describe('bulk delete', () => {
  it('deletes what a single delete would, ignores foreign and gone ids, and is for owners and services only', async () => {
    const { owner, members, channelId } = await channelWith(1);
    const member = members[0]!;
    const other = await channelWith(0);
    const parent = (await owner.post(`/channels/${channelId}/messages`, { content: 'parent' })).body;
    const reply = (await member.post(`/channels/${channelId}/messages`, { content: 'reply', reply_to_id: parent.id, mentions: [owner.userId] })).body;
    const pinned = (await member.post(`/channels/${channelId}/messages`, { content: 'pinned' })).body;
    const keep = (await member.post(`/channels/${channelId}/messages`, { content: 'keep' })).body;
    const gone = (await member.post(`/channels/${channelId}/messages`, { content: 'gone' })).body;
    const foreign = (await other.owner.post(`/channels/${other.channelId}/messages`, { content: 'foreign' })).body;
    await owner.put(`/channels/${channelId}/pins/${pinned.id}`);
    await member.delete(`/channels/${channelId}/messages/${gone.id}`);
    expect(await countMentionsAfter(channelId, owner.userId, null, 10)).toEqual({ count: 1, capped: false });

    const ids = [reply.id, pinned.id, gone.id, foreign.id, '99999999'];
    const byMember = await member.post(`/channels/${channelId}/messages/bulk-delete`, { message_ids: ids });
    expect(byMember.status).toBe(403);
    expect((await owner.post(`/channels/${channelId}/messages/bulk-delete`, { message_ids: [reply.id] })).status).toBe(400);
    expect((await owner.post(`/channels/${channelId}/messages/bulk-delete`, { message_ids: Array.from({ length: 101 }, (_, i) => String(i + 1)) })).status).toBe(400);
    expect((await owner.post(`/channels/${channelId}/messages/bulk-delete`, { message_ids: ids })).status).toBe(204);

    for (const id of [reply.id, pinned.id, gone.id]) expect((await owner.get(`/channels/${channelId}/messages/${id}`)).status).toBe(404);
    expect((await other.owner.get(`/channels/${other.channelId}/messages/${foreign.id}`)).status).toBe(200);
    expect((await owner.get(`/channels/${channelId}/messages`)).body.messages.map((m: { id: string }) => m.id)).toEqual([keep.id, parent.id]);
    expect((await owner.get(`/channels/${channelId}/messages/${parent.id}`)).body.reply_count).toBe(0);
    expect((await owner.get(`/channels/${channelId}/pins`)).body.messages).toEqual([]);
    expect((await owner.get(`/channels/${channelId}/search?q=reply`)).body.messages).toEqual([]);
    expect(await countMentionsAfter(channelId, owner.userId, null, 10)).toEqual({ count: 0, capped: false });

    const service = await api.user({ scope: SERVICE_SCOPE });
    expect((await service.post(`/channels/${channelId}/messages/bulk-delete`, { message_ids: [keep.id, parent.id] })).status).toBe(204);
    expect((await owner.get(`/channels/${channelId}/messages`)).body.messages).toEqual([]);
  });
});

describe('templates in create-message', () => {
  it('fills a template, names a missing variable, and refuses content with template_id', async () => {
    const { owner, channelId } = await channelWith(0);
    const template = await owner.post(`/channels/${channelId}/templates`, { name: 'greeting', content: 'Hello {{name}}, welcome to {{place}}!' });
    expect(template.status).toBe(201);
    const created = await owner.post(`/channels/${channelId}/messages`, { template_id: template.body.id, variables: { name: 'Ada', place: 'the lab' } });
    expect(created.status).toBe(201);
    expect(created.body.content).toBe('Hello Ada, welcome to the lab!');
    const missing = await owner.post(`/channels/${channelId}/messages`, { template_id: template.body.id, variables: { name: 'Ada' } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('missing_variable');
    expect(missing.body.error.message).toContain('place');
    expect((await owner.post(`/channels/${channelId}/messages`, { content: 'x', template_id: template.body.id, variables: {} })).status).toBe(400);
    expect((await owner.post(`/channels/${channelId}/messages`, { variables: { name: 'x' } })).status).toBe(400);
    expect((await owner.post(`/channels/${channelId}/messages`, {})).status).toBe(400);
  });

  it('answers 400 unknown_template for a template_id the channel does not have (a 404 would read as a missing channel)', async () => {
    const { owner, channelId } = await channelWith(0);
    const other = (await owner.post('/channels', { name: 'other' })).body.id;
    const foreign = (await owner.post(`/channels/${other}/templates`, { name: 't', content: 'x' })).body.id;
    for (const templateId of [foreign, '2f1c0000-0000-4000-8000-000000000000']) {
      const response = await owner.post(`/channels/${channelId}/messages`, { template_id: templateId, variables: {} });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('unknown_template');
    }
  });
});

describe('Telegram media', () => {
  const deliver = (body: unknown) => deliverTo(api, body);

  /** A channel linked to a fresh Telegram chat by a service principal (the bot's operator). */
  async function linkedChannel(): Promise<{ owner: ApiClient; channelId: string; chatId: number }> {
    const { owner, channelId } = await channelWith(0);
    const chatId = randomChatId();
    const service = await api.user({ scope: SERVICE_SCOPE });
    expect((await service.post(`/channels/${channelId}/telegram-link`, { telegram_chat_id: chatId })).status).toBe(200);
    return { owner, channelId, chatId };
  }

  it('turns photo, document, video, voice and sticker into attachments; the caption becomes the content', async () => {
    const { owner, chatId } = await linkedChannel();
    const photo = textMessage(chatId, 501, '', {
      text: undefined,
      caption: 'sunset',
      photo: [
        { file_id: 'small', file_unique_id: 'u-small', width: 90, height: 60, file_size: 1000 },
        { file_id: 'large', file_unique_id: 'u-large', width: 1280, height: 853, file_size: 90000 },
        { file_id: 'medium', file_unique_id: 'u-medium', width: 320, height: 213, file_size: 9000 },
      ],
    });
    expect((await deliver(update('message', photo))).body.status).toBe('stored');
    const storedPhoto = (await owner.get(`/telegram/chats/${chatId}/messages/501`)).body;
    expect(storedPhoto).toMatchObject({
      content: 'sunset',
      attachments: [{ id: 'u-large', url: 'tg://file/large', filename: 'photo.jpg', content_type: 'image/jpeg', size: 90000, width: 1280, height: 853 }],
    });

    const doc = textMessage(chatId, 502, '', {
      text: undefined,
      document: { file_id: 'doc-1', file_unique_id: 'u-doc', file_name: 'report.pdf', mime_type: 'application/pdf', file_size: 4242 },
    });
    await deliver(update('message', doc));
    expect((await owner.get(`/telegram/chats/${chatId}/messages/502`)).body).toMatchObject({
      content: '',
      attachments: [{ id: 'u-doc', url: 'tg://file/doc-1', filename: 'report.pdf', content_type: 'application/pdf', size: 4242 }],
    });

    const media = [
      { id: 503, extra: { video: { file_id: 'vid', file_unique_id: 'u-vid', width: 1920, height: 1080, duration: 3, mime_type: 'video/mp4', file_size: 5 } }, type: 'video/mp4' },
      { id: 504, extra: { voice: { file_id: 'voi', file_unique_id: 'u-voi', duration: 2, mime_type: 'audio/ogg', file_size: 6 } }, type: 'audio/ogg' },
      {
        id: 505,
        extra: { sticker: { file_id: 'stk', file_unique_id: 'u-stk', type: 'regular', width: 512, height: 512, is_animated: false, is_video: false, emoji: '😀' } },
        type: 'image/webp',
      },
    ];
    for (const { id, extra, type } of media) {
      await deliver(update('message', textMessage(chatId, id, '', { text: undefined, ...(extra as object) })));
      const stored = (await owner.get(`/telegram/chats/${chatId}/messages/${id}`)).body;
      expect(stored.content).toBe('');
      expect(stored.attachments).toHaveLength(1);
      expect(stored.attachments[0]).toMatchObject({ url: expect.stringMatching(/^tg:\/\/file\//), content_type: type });
    }

    // Media edited to a new caption: the content follows, the attachment stays.
    await deliver(update('edited_message', { ...doc, caption: 'the Q3 report', edit_date: doc.date + 60 }));
    expect((await owner.get(`/telegram/chats/${chatId}/messages/502`)).body).toMatchObject({ content: 'the Q3 report', attachments: [{ id: 'u-doc' }] });

    // Nothing to store: still skipped.
    const empty = await deliver(update('message', textMessage(chatId, 506, '', { text: undefined })));
    expect(empty.body.status).toBe('skipped');
    // A malformed media field is a 400, not a 500.
    expect((await deliver(update('message', textMessage(chatId, 507, 'x', { photo: [{ width: 1 }] as never })))).status).toBe(400);
  });

  it('counts a Telegram reply once, however often and however concurrently it is delivered', async () => {
    const { owner, channelId, chatId } = await linkedChannel();
    const parent = textMessage(chatId, 600, 'parent');
    await deliver(update('message', parent));
    const reply = textMessage(chatId, 601, 'reply', { reply_to_message: { ...parent } as never });
    const payload = update('message', reply);
    await Promise.all(Array.from({ length: 10 }, () => deliver(payload)));
    await deliver(payload);
    const parentView = (await owner.get(`/telegram/chats/${chatId}/messages/600`)).body;
    expect(parentView.reply_count).toBe(1);
    const thread = await owner.get(`/channels/${channelId}/messages/${parentView.id}/replies`);
    expect(thread.body.messages.map((m: { content: string }) => m.content)).toEqual(['reply']);
  });
});
