import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SERVICE_SCOPE } from '../../lib/auth/principal.js';
import { pgQuery } from '../../lib/postgres/pool.js';
import { renderTemplate } from '../../lib/use-cases/templates.js';
import { useLocalApi, type ApiClient } from '../support/api.js';

const api = useLocalApi();

async function channelWith(owner: ApiClient, ...members: ApiClient[]): Promise<string> {
  const channel = await owner.post('/channels', { name: 'templates' });
  expect(channel.status).toBe(201);
  for (const member of members) expect((await owner.put(`/channels/${channel.body.id}/members/${member.userId}`)).status).toBe(204);
  return channel.body.id as string;
}

const asPrincipal = (client: ApiClient) => ({ userId: client.userId, isService: false });

describe('message templates through the local server', () => {
  it('creates a template with its variables, lists it, edits it and deletes it', async () => {
    const owner = await api.user();
    const channelId = await channelWith(owner);
    const created = await owner.post(`/channels/${channelId}/templates`, {
      name: '  welcome  ',
      content: 'Hi {{ name }}, welcome to {{team}}! {{name}}, see {single} braces.',
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      channel_id: channelId,
      name: 'welcome',
      content: 'Hi {{ name }}, welcome to {{team}}! {{name}}, see {single} braces.',
      variables: ['name', 'team'],
      created_by: owner.userId,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updated_at: created.body.created_at,
    });

    const listed = await owner.get(`/channels/${channelId}/templates`);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ templates: [created.body], next_cursor: null });

    const patched = await owner.patch(`/channels/${channelId}/templates/${created.body.id}`, { content: 'Bye {{who}}' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: created.body.id, name: 'welcome', content: 'Bye {{who}}', variables: ['who'] });
    expect(Date.parse(patched.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.body.created_at));
    expect(patched.body.created_at).toBe(created.body.created_at);

    const renamed = await owner.patch(`/channels/${channelId}/templates/${created.body.id}`, { name: 'farewell' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'farewell', content: 'Bye {{who}}' });

    expect((await owner.delete(`/channels/${channelId}/templates/${created.body.id}`)).status).toBe(204);
    expect((await owner.get(`/channels/${channelId}/templates`)).body).toEqual({ templates: [], next_cursor: null });
    const again = await owner.delete(`/channels/${channelId}/templates/${created.body.id}`);
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('not_found');
    expect((await owner.patch(`/channels/${channelId}/templates/${created.body.id}`, { name: 'x' })).status).toBe(404);
  });

  it('pages by name in code-point order, every template exactly once', async () => {
    const owner = await api.user();
    const channelId = await channelWith(owner);
    const names = Array.from({ length: 23 }, (_, index) => `t${String(index).padStart(2, '0')}`);
    names.push('Zed', 'alpha', 'Ärger', '😀 smile', '_under');
    for (const name of [...names].reverse()) {
      expect((await owner.post(`/channels/${channelId}/templates`, { name, content: `{{x}} ${name}` })).status).toBe(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=5&cursor=${encodeURIComponent(cursor)}` : '?limit=5';
      const page = await owner.get(`/channels/${channelId}/templates${query}`);
      expect(page.status).toBe(200);
      expect(page.body.templates.length).toBeLessThanOrEqual(5);
      seen.push(...page.body.templates.map((template: { name: string }) => template.name));
      cursor = page.body.next_cursor;
      pages += 1;
    } while (cursor);
    const byCodePoint = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(seen).toEqual(byCodePoint);
    expect(pages).toBe(6);

    const defaults = await owner.get(`/channels/${channelId}/templates`);
    expect(defaults.body.templates).toHaveLength(names.length);
    expect(defaults.body.next_cursor).toBeNull();

    for (const bad of ['?limit=0', '?limit=101', '?cursor=nonsense', '?unknown=1']) {
      const refused = await owner.get(`/channels/${channelId}/templates${bad}`);
      expect(refused.status, bad).toBe(400);
    }
    expect((await owner.get(`/channels/${channelId}/templates?cursor=nonsense`)).body.error.code).toBe('invalid_cursor');
  });

  it('refuses bad names and contents with 400', async () => {
    const owner = await api.user();
    const channelId = await channelWith(owner);
    const post = (body: unknown) => owner.post(`/channels/${channelId}/templates`, body);
    const cases: [unknown, string, RegExp][] = [
      [{ name: 'a', content: 'Hi {{first name}}' }, 'invalid_template', /opens no valid placeholder at character 4/],
      [{ name: 'a', content: 'Hi {{name}' }, 'invalid_template', /opens no valid placeholder/],
      [{ name: 'a', content: 'Hi }} there' }, 'invalid_template', /closes no placeholder/],
      [{ name: 'a', content: '{{{triple}}}' }, 'invalid_template', /opens no valid placeholder/],
      [{ name: 'a', content: 'x'.repeat(4097) }, 'invalid_request', /content: must be 1 to 4096 characters/],
      [{ name: 'a', content: '' }, 'invalid_request', /content: must be 1 to 4096 characters/],
      [{ name: 'a', content: 'nul \u0000 here' }, 'invalid_request', /content: must not contain U\+0000/],
      [{ name: 'nul\u0000', content: 'x' }, 'invalid_request', /name: must not contain U\+0000/],
      [{ name: '   ', content: 'x' }, 'invalid_request', /name: must be 1 to 100 characters/],
      [{ name: 'n'.repeat(101), content: 'x' }, 'invalid_request', /name: must be 1 to 100 characters/],
      [{ name: 'a' }, 'invalid_request', /content/],
      [{ name: 'a', content: 'x', extra: 1 }, 'invalid_request', /unknown field/],
    ];
    for (const [body, code, message] of cases) {
      const response = await post(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.code, JSON.stringify(body)).toBe(code);
      expect(response.body.error.message, JSON.stringify(body)).toMatch(message);
    }
    // 4096 code points of astral characters (8192 UTF-16 units) is within bounds.
    expect((await post({ name: 'astral', content: '😀'.repeat(4096) })).status).toBe(201);
    expect((await post({ name: '😀'.repeat(100), content: 'x' })).status).toBe(201);

    const created = (await post({ name: 'ok', content: 'x' })).body;
    const patch = (body: unknown) => owner.patch(`/channels/${channelId}/templates/${created.id}`, body);
    expect((await patch({})).status).toBe(400);
    expect((await patch({ content: 'a {{ b' })).body.error.code).toBe('invalid_template');
    expect((await patch({ content: '\u0000' })).status).toBe(400);
    expect((await owner.patch(`/channels/${channelId}/templates/not-a-uuid`, { name: 'x' })).status).toBe(400);
  });

  it('answers 409 for a name the channel already has, and allows it in another channel', async () => {
    const owner = await api.user();
    const channelId = await channelWith(owner);
    const otherChannelId = await channelWith(owner);
    expect((await owner.post(`/channels/${channelId}/templates`, { name: 'greet', content: 'a' })).status).toBe(201);
    const duplicate = await owner.post(`/channels/${channelId}/templates`, { name: ' greet ', content: 'b' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.code).toBe('conflict');
    expect((await owner.post(`/channels/${channelId}/templates`, { name: 'Greet', content: 'c' })).status).toBe(201);
    expect((await owner.post(`/channels/${otherChannelId}/templates`, { name: 'greet', content: 'd' })).status).toBe(201);

    const second = (await owner.post(`/channels/${channelId}/templates`, { name: 'second', content: 'e' })).body;
    const renamed = await owner.patch(`/channels/${channelId}/templates/${second.id}`, { name: 'greet' });
    expect(renamed.status).toBe(409);
  });

  it('lets any member create, only the creator, owner or a service edit and delete; non-members get 403', async () => {
    const owner = await api.user();
    const alice = await api.user();
    const bob = await api.user();
    const stranger = await api.user();
    const service = await api.user({ scope: `openid ${SERVICE_SCOPE}` });
    const channelId = await channelWith(owner, alice, bob);
    const path = `/channels/${channelId}/templates`;

    const mine = await alice.post(path, { name: 'alice', content: 'from {{alice}}' });
    expect(mine.status).toBe(201);
    expect(mine.body.created_by).toBe(alice.userId);

    expect((await bob.get(path)).body.templates).toHaveLength(1);
    const bobEdits = await bob.patch(`${path}/${mine.body.id}`, { content: 'hijacked' });
    expect(bobEdits.status).toBe(403);
    expect(bobEdits.body.error.code).toBe('forbidden');
    expect((await bob.delete(`${path}/${mine.body.id}`)).status).toBe(403);

    for (const response of [
      await stranger.get(path),
      await stranger.post(path, { name: 'x', content: 'y' }),
      await stranger.patch(`${path}/${mine.body.id}`, { name: 'x' }),
      await stranger.delete(`${path}/${mine.body.id}`),
    ]) {
      expect(response.status).toBe(403);
    }

    expect((await alice.patch(`${path}/${mine.body.id}`, { name: 'by alice' })).status).toBe(200);
    expect((await owner.patch(`${path}/${mine.body.id}`, { name: 'by owner' })).status).toBe(200);
    expect((await service.patch(`${path}/${mine.body.id}`, { name: 'by service' })).status).toBe(200);
    const serviceMade = await service.post(path, { name: 'service', content: 'x' });
    expect(serviceMade.status).toBe(201);
    expect((await owner.delete(`${path}/${serviceMade.body.id}`)).status).toBe(204);
    expect((await service.delete(`${path}/${mine.body.id}`)).status).toBe(204);

    // A creator who left the channel can no longer touch their template.
    const left = (await alice.post(path, { name: 'left', content: 'x' })).body;
    expect((await alice.delete(`/channels/${channelId}/members/${alice.userId}`)).status).toBe(204);
    expect((await alice.delete(`${path}/${left.id}`)).status).toBe(403);

    expect((await owner.get(`/channels/${randomUUID()}/templates`)).status).toBe(404);
  });

  it('answers 404 for a template of another channel, even to a member of both (400 unknown_template when create-message names it)', async () => {
    const owner = await api.user();
    const channelA = await channelWith(owner);
    const channelB = await channelWith(owner);
    const template = (await owner.post(`/channels/${channelA}/templates`, { name: 'a', content: 'x' })).body;
    expect((await owner.patch(`/channels/${channelB}/templates/${template.id}`, { name: 'b' })).status).toBe(404);
    expect((await owner.delete(`/channels/${channelB}/templates/${template.id}`)).status).toBe(404);
    await expect(renderTemplate(asPrincipal(owner), channelB, template.id, {})).rejects.toMatchObject({ status: 400, code: 'unknown_template' });
    expect((await owner.get(`/channels/${channelA}/templates`)).body.templates).toHaveLength(1);
  });

  it('goes with its channel: deleting the chats row cascades to the channel\'s templates only', async () => {
    const owner = await api.user();
    const doomed = await channelWith(owner);
    const kept = await channelWith(owner);
    for (const channelId of [doomed, doomed, kept]) {
      expect((await owner.post(`/channels/${channelId}/templates`, { name: randomUUID(), content: 'x' })).status).toBe(201);
    }
    const count = async (channelId: string) =>
      Number((await pgQuery<{ n: string }>('SELECT count(*) AS n FROM message_templates WHERE chat_id = $1', [channelId])).rows[0]!.n);
    expect(await count(doomed)).toBe(2);
    await pgQuery('DELETE FROM chats WHERE id = $1', [doomed]);
    expect(await count(doomed)).toBe(0);
    expect(await count(kept)).toBe(1);
  });

  it('renders a template for create-message: fills it, names missing and unknown variables, bounds the result', async () => {
    const owner = await api.user();
    const member = await api.user();
    const stranger = await api.user();
    const channelId = await channelWith(owner, member);
    const template = (await owner.post(`/channels/${channelId}/templates`, { name: 'order', content: 'Order {{ id }} for {{who}}: {{id}}' })).body;
    const principal = asPrincipal(member);

    await expect(renderTemplate(principal, channelId, template.id, { id: '42', who: 'Ann' })).resolves.toBe('Order 42 for Ann: 42');
    await expect(renderTemplate(principal, channelId, template.id, { id: '{{who}}', who: '$1' })).resolves.toBe('Order {{who}} for $1: {{who}}');

    const missing = renderTemplate(principal, channelId, template.id, { id: '42' });
    await expect(missing).rejects.toMatchObject({ status: 400, code: 'missing_variable', message: expect.stringMatching(/\bwho\b/) });
    await expect(renderTemplate(principal, channelId, template.id, {})).rejects.toThrow('Missing template variables: id, who');
    await expect(renderTemplate(principal, channelId, template.id, { id: '1', who: '2', whom: '3' })).rejects.toMatchObject({
      status: 400,
      code: 'unknown_variable',
      message: expect.stringMatching(/whom/),
    });
    await expect(renderTemplate(principal, channelId, template.id, { id: 'x'.repeat(2100), who: 'y' })).rejects.toMatchObject({
      status: 400,
      code: 'invalid_rendered_content',
    });
    const blank = (await owner.post(`/channels/${channelId}/templates`, { name: 'blank', content: '{{v}}' })).body;
    await expect(renderTemplate(principal, channelId, blank.id, { v: '' })).rejects.toMatchObject({ code: 'invalid_rendered_content' });
    await expect(renderTemplate(principal, channelId, blank.id, { v: 'a\u0000' })).rejects.toMatchObject({ code: 'invalid_rendered_content' });

    await expect(renderTemplate(asPrincipal(stranger), channelId, template.id, { id: '1', who: '2' })).rejects.toMatchObject({ status: 403 });
    await expect(renderTemplate(principal, channelId, randomUUID(), {})).rejects.toMatchObject({ status: 400, code: 'unknown_template' });
    await expect(renderTemplate({ userId: stranger.userId, isService: true }, channelId, template.id, { id: '1', who: '2' })).resolves.toBe('Order 1 for 2: 1');
  });
});
