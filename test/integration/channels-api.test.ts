import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SERVICE_SCOPE } from '../../lib/auth/principal.js';
import { useLocalApi } from '../support/api.js';

const api = useLocalApi();

describe('channels and membership through the local server', () => {
  it('creates a channel owned by the caller and reads it back', async () => {
    const owner = await api.user();
    const created = await owner.post('/channels', { name: 'general' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'general',
      telegram_chat_id: null,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      last_message_id: null,
    });
    const read = await owner.get(`/channels/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
  });

  it('links a Telegram chat once (service principals only): a second channel for the same chat is a 409', async () => {
    const owner = await api.user({ scope: SERVICE_SCOPE });
    const chatId = -1_000_000_000_000 - Math.floor(Math.random() * 1e9);
    const user = await api.user();
    const refused = await user.post('/channels', { name: 'bridged', telegram_chat_id: chatId });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('forbidden_field');
    const first = await owner.post('/channels', { name: 'bridged', telegram_chat_id: chatId });
    expect(first.status).toBe(201);
    expect(first.body.telegram_chat_id).toBe(chatId);
    const second = await owner.post('/channels', { name: 'again', telegram_chat_id: chatId });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('conflict');
  });

  it('answers 404 for an unknown channel, 403 for a non-member, 400 for a malformed id', async () => {
    const owner = await api.user();
    const stranger = await api.user();
    const channel = (await owner.post('/channels', { name: 'private' })).body;
    expect((await owner.get(`/channels/${randomUUID()}`)).status).toBe(404);
    const forbidden = await stranger.get(`/channels/${channel.id}`);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toEqual({ error: { code: 'forbidden', message: expect.any(String) } });
    const malformed = await owner.get('/channels/not-a-uuid');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('invalid_request');
  });

  it('lets the owner add and remove members, members leave, and nobody else manage them', async () => {
    const owner = await api.user();
    const member = await api.user();
    const other = await api.user();
    const channel = (await owner.post('/channels', { name: 'team' })).body;

    expect((await member.put(`/channels/${channel.id}/members/${other.userId}`)).status).toBe(403);
    expect((await owner.put(`/channels/${channel.id}/members/${member.userId}`)).status).toBe(204);
    expect((await owner.put(`/channels/${channel.id}/members/${member.userId}`)).status).toBe(204);
    expect((await member.get(`/channels/${channel.id}`)).status).toBe(200);

    expect((await member.put(`/channels/${channel.id}/members/${other.userId}`)).status).toBe(403);
    expect((await member.delete(`/channels/${channel.id}/members/${owner.userId}`)).status).toBe(403);
    expect((await owner.delete(`/channels/${channel.id}/members/${owner.userId}`)).status).toBe(409);

    expect((await member.delete(`/channels/${channel.id}/members/${member.userId}`)).status).toBe(204);
    expect((await member.get(`/channels/${channel.id}`)).status).toBe(403);
    expect((await owner.delete(`/channels/${channel.id}/members/${member.userId}`)).status).toBe(204);
  });

  it('lets a service principal read and manage any channel', async () => {
    const owner = await api.user();
    const service = await api.user({ scope: `openid ${SERVICE_SCOPE}` });
    const channel = (await owner.post('/channels', { name: 'ops' })).body;
    expect((await service.get(`/channels/${channel.id}`)).status).toBe(200);
    expect((await service.put(`/channels/${channel.id}/members/${randomUUID()}`)).status).toBe(204);
  });

  it('rejects bad channel bodies with precise 4xx errors', async () => {
    const owner = await api.user();
    const cases: [unknown, number, RegExp][] = [
      [{}, 400, /name: expected string/],
      [{ name: '' }, 400, /name: must not be empty/],
      [{ name: 'x'.repeat(101) }, 400, /at most 100/],
      [{ name: 'ok', extra: 1 }, 400, /unknown field\(s\) extra/],
      [{ name: 'ok', telegram_chat_id: 'abc' }, 400, /telegram_chat_id/],
      ['{"name": ', 400, /not valid JSON/],
    ];
    for (const [body, status, message] of cases) {
      const response = await owner.post('/channels', body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(response.body.error.message).toMatch(message);
    }
    const wrongType = await owner.request('POST', '/channels', '{"name":"x"}', { 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.error.code).toBe('unsupported_media_type');
  });
});
