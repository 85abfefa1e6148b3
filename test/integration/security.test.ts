/** A member of one channel can do nothing in another; authorship and the service scope are enforced. */
import { describe, expect, it } from 'vitest';
import { useLocalApi } from '../support/api.js';

const api = useLocalApi();

describe('channel isolation', () => {
  it('refuses a member of channel A every read and write in channel B with 403', async () => {
    const alice = await api.user();
    const mallory = await api.user();
    const target = (await alice.post('/channels', { name: 'private' })).body.id;
    await mallory.post('/channels', { name: 'mallorys own' });
    const messageId = (await alice.post(`/channels/${target}/messages`, { content: 'secret' })).body.id;
    const base = `/channels/${target}`;
    const attempts: [string, string, unknown?][] = [
      ['GET', base],
      ['GET', `${base}/messages`],
      ['GET', `${base}/messages/${messageId}`],
      ['POST', `${base}/messages`, { content: 'intrusion' }],
      ['PATCH', `${base}/messages/${messageId}`, { content: 'defaced' }],
      ['DELETE', `${base}/messages/${messageId}`],
      ['PUT', `${base}/messages/${messageId}/reactions/${encodeURIComponent('👍')}`],
      ['DELETE', `${base}/messages/${messageId}/reactions/${encodeURIComponent('👍')}`],
      ['GET', `${base}/messages/${messageId}/reactions`],
      ['PUT', `${base}/pins/${messageId}`],
      ['DELETE', `${base}/pins/${messageId}`],
      ['GET', `${base}/pins`],
      ['PUT', `${base}/read-position`, { message_id: messageId }],
      ['GET', `${base}/read-position`],
      ['GET', `${base}/search?q=secret`],
      ['POST', `${base}/typing`],
      ['GET', `${base}/typing`],
      ['PUT', `${base}/members/${mallory.userId}`],
    ];
    for (const [method, path, body] of attempts) {
      const response = await mallory.request(method, path, body);
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(response.body.error.code).toBe('forbidden');
    }
    const intact = await alice.get(`${base}/messages`);
    expect(intact.body.messages.map((m: { content: string }) => m.content)).toEqual(['secret']);
  });

  it('lets only the author edit, and the author, owner or a service delete', async () => {
    const owner = await api.user();
    const author = await api.user();
    const bystander = await api.user();
    const channelId = (await owner.post('/channels', { name: 'authorship' })).body.id;
    for (const user of [author, bystander]) await owner.put(`/channels/${channelId}/members/${user.userId}`);
    const id = (await author.post(`/channels/${channelId}/messages`, { content: 'mine' })).body.id;
    expect((await bystander.patch(`/channels/${channelId}/messages/${id}`, { content: 'x' })).status).toBe(403);
    expect((await owner.patch(`/channels/${channelId}/messages/${id}`, { content: 'x' })).status).toBe(403);
    expect((await bystander.delete(`/channels/${channelId}/messages/${id}`)).status).toBe(403);
    const service = await api.user({ scope: 'messages:service' });
    expect((await service.delete(`/channels/${channelId}/messages/${id}`)).status).toBe(204);
  });
});
