/**
 * Property-based bad input at every route, through the local server: every answer is a 4xx in the API's
 * error shape (never a 5xx), and nothing stored changes.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { routes, type Route } from '../../functions/routes.js';
import { useLocalApi, type ApiClient } from '../support/api.js';
import { TEST_WEBHOOK_SECRET } from '../support/constants.js';
import { randomChatId } from '../support/telegram.js';

const api = useLocalApi();
let owner: ApiClient;
let fixture: Record<string, string>;

beforeAll(async () => {
  owner = await api.user();
  const chatId = randomChatId();
  const channelId = (await owner.post('/channels', { name: 'fuzzed' })).body.id;
  await (await api.user({ scope: 'messages:service' })).post(`/channels/${channelId}/telegram-link`, { telegram_chat_id: chatId });
  const messageId = (await owner.post(`/channels/${channelId}/messages`, { content: 'keep me' })).body.id;
  await owner.put(`/channels/${channelId}/messages/${messageId}/reactions/${encodeURIComponent('👍')}`);
  await owner.put(`/channels/${channelId}/pins/${messageId}`);
  await owner.put(`/channels/${channelId}/read-position`, { message_id: messageId });
  fixture = {
    channel_id: channelId,
    message_id: messageId,
    user_id: owner.userId,
    emoji: '👍',
    telegram_chat_id: String(chatId),
    telegram_message_id: '1',
  };
});

/** Everything a client can read back about the fixture channel. */
async function snapshot(): Promise<unknown> {
  const base = `/channels/${fixture.channel_id}`;
  const [channel, messages, reactions, pins, position] = await Promise.all([
    owner.get(base),
    owner.get(`${base}/messages?limit=100`),
    owner.get(`${base}/messages/${fixture.message_id}/reactions`),
    owner.get(`${base}/pins`),
    owner.get(`${base}/read-position`),
  ]);
  return { channel: channel.body, messages: messages.body, reactions: reactions.body, pins: pins.body, position: position.body };
}

const badIds = fc.constantFrom(
  'abc', '0', '-1', '01', '1.5', '1e5', ' 1', '99999999999999999999', '9223372036854775808', '%00', '..', '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e', 'null', 'undefined', '[]', '{}', '😀', 'x'.repeat(3000), '%F0%28%8C%28', '1%0A2', 'DROP%20TABLE%20messages',
);
const badUuids = fc.constantFrom(
  'not-a-uuid', '2F1C0000-0000-4000-8000-000000000000', '00000000-0000-0000-0000-000000000000x', '{2f1c0000-0000-4000-8000-000000000000}',
  '..', '%2e%2e%2f', '', 'x'.repeat(500), '2f1c0000000040008000000000000000', '😀',
);
const badEmoji = fc.constantFrom('a', 'ab', '👍👍', ':x', 'x:', '::', `:${'a'.repeat(33)}:`, '%07', '%00', '..', 'x'.repeat(100), ':bad name:', '%E2%80%8B');
/** Values that are wrong for the named query parameter (an unknown parameter is wrong whatever its value). */
function badQueryValue(name: string): fc.Arbitrary<string> {
  switch (name) {
    case 'q':
      // '\u0000' is sent as %00: PostgreSQL refuses NUL in a query parameter too.
      return fc.constantFrom('', '   ', 'x'.repeat(257), '😀'.repeat(257), 'a\u0000b', '\u0000');
    case 'limit':
      // Above every route's maximum (list-members allows 200, the changes feed 500).
      return fc.constantFrom('', '0', '1000', '-5', 'abc', '1.5', '1e2', ' 5', '9'.repeat(30));
    case 'cursor':
      return fc.constantFrom('!!!', 'x'.repeat(201), Buffer.from('[1]').toString('base64url'), Buffer.from('["a","1"]').toString('base64url'), Buffer.from('{"rank":1}').toString('base64url'));
    case 'user_ids':
      return fc.oneof(badUuids, fc.constant(Array.from({ length: 101 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`).join(',')));
    case 'bogus':
      return fc.string({ maxLength: 20 });
    default:
      return badIds;
  }
}

function pathFor(route: Route, overrides: Record<string, string>): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => overrides[name] ?? encodeURIComponent(fixture[name]!));
}

interface BadRequest {
  route: Route;
  path: string;
  body?: string | Buffer;
  headers: Record<string, string>;
  what: string;
}

/** A request to `route` that is wrong in exactly one generated way. */
function badRequestFor(route: Route): fc.Arbitrary<BadRequest> {
  const params = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name!);
  const headers = { 'content-type': 'application/json', ...(route.handler === 'telegram-webhook' ? { 'x-telegram-bot-api-secret-token': TEST_WEBHOOK_SECRET } : {}) };
  const validBody: Record<string, unknown> | undefined = {
    'create-channel': { name: 'x' },
    'create-message': { content: 'x' },
    'edit-message': { content: 'x' },
    'set-read-position': { message_id: '1' },
    'set-presence': { status: 'online' },
    'telegram-webhook': { update_id: 1 },
  }[route.handler];
  const options: fc.Arbitrary<BadRequest>[] = [];
  for (const name of params) {
    const values = name === 'emoji' ? badEmoji : name.endsWith('message_id') || name === 'telegram_chat_id' ? badIds : badUuids;
    options.push(values.map((value) => ({ route, path: pathFor(route, { [name]: value }), body: validBody ? JSON.stringify(validBody) : undefined, headers, what: `${name}=${value}` })));
  }
  if (route.query) {
    const names = route.handler === 'search-messages' ? ['q', 'limit', 'cursor', 'bogus'] : route.handler === 'get-presence' ? ['user_ids', 'bogus'] : ['limit', 'before', 'after', 'around', 'bogus'];
    options.push(
      fc.constantFrom(...names).chain((name) => badQueryValue(name).map((value) => [name, value] as const)).map(([name, value]) => {
        const base = route.handler === 'search-messages' && name !== 'q' ? 'q=ok&' : route.handler === 'get-presence' && name !== 'user_ids' ? `user_ids=${fixture.user_id}&` : '';
        return { route, path: `${pathFor(route, {})}?${base}${name}=${encodeURIComponent(value)}`, headers, what: `query ${name}=${value}` };
      }),
    );
  }
  if (validBody) {
    const malformedText = fc.constantFrom('{', '{"content": ', '[1,2', 'nul', '{"content": "a\u0001b"}', '{"name": "\u0000"}', "{'single': 1}", '{"a":1,}', '\u0000', '');
    // eslint-disable-next-line no-loss-of-precision -- deliberately beyond Number.MAX_SAFE_INTEGER: a numeric id that cannot survive JSON
    const wrongShapes: unknown[] = [null, 42, 'text', [], [validBody], true, {}, Object.fromEntries(Object.keys(validBody).map((key) => [key, { nested: true }])), Object.fromEntries(Object.keys(validBody).map((key) => [key, 12345678901234567890]))];
    // Telegram adds fields to Update as the Bot API grows: unknown fields are only wrong for our own bodies.
    if (route.handler !== 'telegram-webhook') wrongShapes.push({ ...validBody, extra: 1 });
    const wrongTypes = fc.constantFrom(...wrongShapes);
    options.push(malformedText.map((text) => ({ route, path: pathFor(route, {}), body: text, headers, what: `body text ${JSON.stringify(text)}` })));
    // Well-formed JSON whose strings carry an escaped U+0000 or a lone surrogate ("\u0000", "\ud800"): the raw
    // NUL above is a JSON parse error, these reach the schemas (and, unchecked, PostgreSQL).
    const unstorable = fc.constantFrom('a\u0000b', '\u0000', 'x\ud800', '\udfff y');
    const stringKeys = Object.keys(validBody).filter((key) => typeof validBody[key] === 'string');
    if (stringKeys.length > 0) {
      options.push(
        fc.tuple(fc.constantFrom(...stringKeys), unstorable).map(([key, text]) => {
          const body = JSON.stringify({ ...validBody, [key]: text });
          return { route, path: pathFor(route, {}), body, headers, what: `escaped body ${body}` };
        }),
      );
    }
    options.push(wrongTypes.map((value) => ({ route, path: pathFor(route, {}), body: JSON.stringify(value), headers, what: `body ${JSON.stringify(value)}` })));
    options.push(fc.constantFrom(Buffer.from([0x7b, 0x22, 0x63, 0xff, 0xfe, 0x22, 0x7d]), Buffer.from([0xc3, 0x28]), Buffer.from('{"content":"\xed\xa0\x80"}', 'latin1')).map((bytes) => ({ route, path: pathFor(route, {}), body: bytes, headers, what: 'invalid UTF-8' })));
    options.push(fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml').map((type) => ({ route, path: pathFor(route, {}), body: JSON.stringify(validBody), headers: { ...headers, 'content-type': type }, what: `content-type ${type}` })));
    options.push(fc.constant({ route, path: pathFor(route, {}), body: JSON.stringify({ ...validBody, pad: 'x'.repeat(70_000) }), headers, what: 'oversized body' }));
  }
  return fc.oneof(...options);
}

const fuzzable = routes.filter((route) => route.auth === 'jwt' || route.handler === 'telegram-webhook').filter((route) => {
  const hasParams = route.path.includes('{');
  return hasParams || route.query || route.body || ['create-channel', 'set-presence', 'telegram-webhook'].includes(route.handler);
});

describe('bad input at every route', () => {
  it('answers every malformed request with a 4xx in the error shape and changes nothing', async () => {
    const before = await snapshot();
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fuzzable).chain(badRequestFor), async (request) => {
        const response = await owner.request(request.route.method, request.path, request.body, request.headers);
        seen.set(request.route.handler, (seen.get(request.route.handler) ?? 0) + 1);
        const label = `${request.route.method} ${request.route.path} with ${request.what.slice(0, 120)} → ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`;
        expect(response.status, label).toBeGreaterThanOrEqual(400);
        expect(response.status, label).toBeLessThan(500);
        expect(response.body, label).toEqual({ error: { code: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) } });
      }),
      { numRuns: 600 },
    );
    expect(await snapshot()).toEqual(before);
    expect(seen.size).toBe(fuzzable.length);
  }, 120_000);

  it('refuses U+0000 and unpaired surrogates (sent escaped, in valid JSON) in every text that reaches PostgreSQL', async () => {
    const before = await snapshot();
    const base = `/channels/${fixture.channel_id}`;
    const template = (await owner.post(`${base}/templates`, { name: `t-${Date.now()}`, content: 'Hi {{who}}' })).body;
    for (const bad of ['a\u0000b', '\u0000', 'x\ud800', '\udc00']) {
      const attempts = [
        ['POST /channels', await owner.post('/channels', { name: bad })],
        ['PATCH /channels/{id}', await owner.patch(base, { name: bad })],
        ['POST messages', await owner.post(`${base}/messages`, { content: bad })],
        ['PATCH message', await owner.patch(`${base}/messages/${fixture.message_id}`, { content: bad })],
        ['POST messages from a template', await owner.post(`${base}/messages`, { template_id: template.id, variables: { who: bad } })],
      ] as const;
      for (const [what, response] of attempts) {
        expect(response.status, `${what} ${JSON.stringify(bad)} → ${JSON.stringify(response.body)}`).toBe(400);
        expect(response.body.error.code).toBe('invalid_request');
        expect(response.body.error.message).toMatch(/must not contain U\+0000 or unpaired surrogates/);
      }
    }
    const search = await owner.get(`${base}/search?q=${encodeURIComponent('a\u0000b')}`);
    expect(search.status, JSON.stringify(search.body)).toBe(400);
    expect(search.body.error.message).toMatch(/q: must not contain U\+0000/);
    await owner.delete(`${base}/templates/${template.id}`);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses malformed Telegram updates with 400 and stores nothing', async () => {
    const before = await snapshot();
    const chat = Number(fixture.telegram_chat_id);
    const malformed = fc.constantFrom<unknown>(
      { update_id: -1 },
      { update_id: 1.5 },
      { update_id: 1, message: { message_id: 'x', date: 1, chat: { id: chat, type: 'group' } } },
      { update_id: 1, message: { message_id: 5, date: -3, chat: { id: chat, type: 'group' }, text: 'x' } },
      { update_id: 1, message: { message_id: 5, date: 1_800_000_000, chat: { id: 'chat', type: 'group' }, text: 'x' } },
      { update_id: 1, message: { message_id: 5, date: 1_800_000_000, text: 'no chat' } },
      { update_id: 1, channel_post: { message_id: 5, date: 1_800_000_000, chat: { id: chat, type: 'channel' }, text: 7 } },
      { update_id: 1, edited_message: { message_id: 5, date: 1_800_000_000, chat: { id: chat, type: 'group' }, text: 'x', edit_date: 'soon' } },
      { update_id: 1, message: { message_id: 5, date: 1_800_000_000, chat: { id: chat, type: 'group' }, text: 'x'.repeat(70_000) } },
      [],
      'update',
    );
    await fc.assert(
      fc.asyncProperty(malformed, async (body) => {
        const response = await api.anonymous().request('POST', '/telegram/webhook', body, { 'x-telegram-bot-api-secret-token': TEST_WEBHOOK_SECRET });
        expect([400, 413], JSON.stringify(body).slice(0, 100)).toContain(response.status);
        expect(response.body.error.code).toMatch(/^[a-z_]+$/);
      }),
      { numRuns: 40 },
    );
    expect(await snapshot()).toEqual(before);
  });
});
