/**
 * The webhook-registration custom resource, driven by CloudFormation's event shapes (test/fixtures) against a
 * local HTTP server that plays the Bot API: it records every call and keeps the one webhook a bot has, the way
 * Telegram does, so each test can assert exactly what was sent and what the bot is left pointing at.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Message } from '@grammyjs/types';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { getConfig, loadConfig } from '../../lib/config.js';
import { BotApiError, callBotApi } from '../../lib/telegram/bot-api.js';
import { messageOf } from '../../lib/telegram/message.js';
import { HANDLED_UPDATE_KINDS } from '../../lib/telegram/webhook-registration.js';

const BOT_ID = '7012345678';
const TOKEN_SECRET_PART = 'AAFx_registration-test-token-part';
const TOKEN = `${BOT_ID}:${TOKEN_SECRET_PART}`;
const SECRET = 'registration-test-webhook-secret';
const OUR_URL = 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/telegram/webhook';
const NEW_URL = 'https://messages.example.com/telegram/webhook';
const OTHER_STACK_URL = 'https://other-stack.execute-api.eu-west-1.amazonaws.com/telegram/webhook';
const PHYSICAL_ID = `telegram-webhook:${BOT_ID}`;
const DEFAULT_UPDATES = ['message', 'edited_message', 'channel_post', 'edited_channel_post'];

interface Call {
  method: string;
  token: string;
  body: Record<string, unknown>;
}

/** The Bot API as far as webhooks go: one webhook per bot, Telegram's answers and its 401 for a bad token. */
const botApi = {
  calls: [] as Call[],
  acceptedToken: TOKEN,
  webhook: { url: '', allowed_updates: [] as string[], secret_token: '' },
  /** An answer to give instead of the real one, once, for the named method. */
  refuse: undefined as { method: string; status: number; body: Record<string, unknown> } | undefined,
  url: '',
  server: undefined as Server | undefined,
};

function parseBody(text: string, contentType: string | undefined): Record<string, unknown> {
  if (text === '') return {};
  if (contentType?.startsWith('application/json')) return JSON.parse(text) as Record<string, unknown>;
  // Telegram also takes form bodies, with arrays as JSON text.
  const body: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(text)) body[key] = key === 'allowed_updates' ? JSON.parse(value) : value;
  return body;
}

function answer(status: number, body: Record<string, unknown>) {
  return { status, body };
}

function botApiAnswer(method: string, token: string, body: Record<string, unknown>): { status: number; body: Record<string, unknown> } {
  if (token !== botApi.acceptedToken) return answer(401, { ok: false, error_code: 401, description: 'Unauthorized' });
  if (botApi.refuse?.method === method) {
    const refusal = botApi.refuse;
    botApi.refuse = undefined;
    return answer(refusal.status, refusal.body);
  }
  switch (method) {
    case 'setWebhook': {
      if (typeof body.url !== 'string' || body.url === '') return answer(400, { ok: false, error_code: 400, description: 'Bad Request: bad webhook: HTTPS url must be provided for webhook' });
      const same = botApi.webhook.url === body.url;
      botApi.webhook = { url: body.url, allowed_updates: (body.allowed_updates as string[] | undefined) ?? [], secret_token: typeof body.secret_token === 'string' ? body.secret_token : '' };
      return answer(200, { ok: true, result: true, description: same ? 'Webhook is already set' : 'Webhook was set' });
    }
    case 'deleteWebhook': {
      const had = botApi.webhook.url !== '';
      botApi.webhook = { url: '', allowed_updates: [], secret_token: '' };
      return answer(200, { ok: true, result: true, description: had ? 'Webhook was deleted' : 'Webhook is already deleted' });
    }
    case 'getWebhookInfo':
      return answer(200, {
        ok: true,
        result: {
          url: botApi.webhook.url,
          has_custom_certificate: false,
          pending_update_count: 0,
          ...(botApi.webhook.url ? { max_connections: 40, ip_address: '203.0.113.7', allowed_updates: botApi.webhook.allowed_updates } : {}),
        },
      });
    default:
      return answer(404, { ok: false, error_code: 404, description: 'Not Found' });
  }
}

async function startBotApi(): Promise<void> {
  botApi.server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(new URL(request.url ?? '/', 'http://bot-api').pathname);
      response.setHeader('content-type', 'application/json');
      if (!match) {
        response.statusCode = 404;
        response.end(JSON.stringify({ ok: false, error_code: 404, description: 'Not Found' }));
        return;
      }
      const [, token = '', method = ''] = match;
      const body = parseBody(Buffer.concat(chunks).toString('utf8'), request.headers['content-type']);
      botApi.calls.push({ method, token, body });
      const { status, body: answerBody } = botApiAnswer(method, token, body);
      response.statusCode = status;
      response.end(JSON.stringify(answerBody));
    });
  });
  await new Promise<void>((resolve) => botApi.server!.listen(0, '127.0.0.1', resolve));
  botApi.url = `http://127.0.0.1:${(botApi.server.address() as AddressInfo).port}`;
}

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/aws-events/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

/** A real event shape with this resource's properties (and the ServiceToken the Provider framework adds). */
function cfnEvent(
  kind: 'create' | 'update' | 'delete',
  properties: Record<string, unknown>,
  extra: { physicalResourceId?: string; oldProperties?: Record<string, unknown> } = {},
): CloudFormationCustomResourceEvent {
  const event = fixture(`cfn-custom-resource-${kind}-event.json`);
  event.ResourceProperties = { ServiceToken: 'arn:aws:lambda:us-west-2:123456789012:function:provider-onevent', ...properties };
  if (kind !== 'create') event.PhysicalResourceId = extra.physicalResourceId ?? PHYSICAL_ID;
  if (kind === 'update') event.OldResourceProperties = { ServiceToken: 'arn:aws:lambda:us-west-2:123456789012:function:provider-onevent', ...extra.oldProperties };
  return event as unknown as CloudFormationCustomResourceEvent;
}

/** Calls as asserted: the method and its body, after checking each went to the configured bot. */
function recordedCalls(): { method: string; body: Record<string, unknown> }[] {
  for (const call of botApi.calls) expect(call.token).toBe(TOKEN);
  return botApi.calls.map(({ method, body }) => ({ method, body }));
}

function setWebhookCall(url: string, allowedUpdates: string[] = DEFAULT_UPDATES) {
  return { method: 'setWebhook', body: { url, secret_token: SECRET, allowed_updates: allowedUpdates, drop_pending_updates: false } };
}

let handler: typeof import('../../functions/register-telegram-webhook.js').handler;
const savedEnv = { ...process.env };
const output: string[] = [];

beforeAll(async () => {
  await startBotApi();
  Object.assign(process.env, {
    TELEGRAM_API_URL: botApi.url,
    TELEGRAM_BOT_TOKEN: TOKEN,
    TELEGRAM_WEBHOOK_SECRET: SECRET,
    // Info lines are where a leaked token would show: they are captured and searched below.
    LOG_LEVEL: 'INFO',
  });
  loadConfig();
  // The handler reads its configuration when imported.
  ({ handler } = await import('../../functions/register-telegram-webhook.js'));
  const write = process.stdout.write.bind(process.stdout);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    output.push(text);
    // The service's own JSON log lines are kept out of the test report; anything else passes through.
    return text.startsWith('{"level"') ? true : write(chunk, ...(rest as []));
  });
});

afterAll(async () => {
  vi.restoreAllMocks();
  process.env = savedEnv;
  loadConfig();
  await new Promise<void>((resolve) => botApi.server?.close(() => resolve()));
});

beforeEach(() => {
  botApi.calls = [];
  botApi.acceptedToken = TOKEN;
  botApi.refuse = undefined;
  botApi.webhook = { url: '', allowed_updates: [], secret_token: '' };
});

describe('functions/register-telegram-webhook (CloudFormation custom resource)', () => {
  it('Create sets the webhook with the URL, the secret token and the handled update kinds', async () => {
    const response = await handler(cfnEvent('create', { WebhookUrl: OUR_URL }));
    expect(recordedCalls()).toEqual([setWebhookCall(OUR_URL)]);
    expect(response).toEqual({ PhysicalResourceId: PHYSICAL_ID, Data: { WebhookUrl: OUR_URL, AllowedUpdates: DEFAULT_UPDATES.join(',') } });
    expect(botApi.webhook).toEqual({ url: OUR_URL, allowed_updates: DEFAULT_UPDATES, secret_token: SECRET });
  });

  it('Create passes AllowedUpdates through when given', async () => {
    const response = await handler(cfnEvent('create', { WebhookUrl: OUR_URL, AllowedUpdates: ['message', 'message_reaction'] }));
    expect(recordedCalls()).toEqual([setWebhookCall(OUR_URL, ['message', 'message_reaction'])]);
    expect(response.Data.AllowedUpdates).toBe('message,message_reaction');
  });

  it('Update with the same URL sets it again (harmless) and keeps the physical id', async () => {
    await handler(cfnEvent('create', { WebhookUrl: OUR_URL }));
    const response = await handler(cfnEvent('update', { WebhookUrl: OUR_URL }, { oldProperties: { WebhookUrl: OUR_URL } }));
    expect(recordedCalls()).toEqual([setWebhookCall(OUR_URL), setWebhookCall(OUR_URL)]);
    expect(response.PhysicalResourceId).toBe(PHYSICAL_ID);
    expect(botApi.webhook).toEqual({ url: OUR_URL, allowed_updates: DEFAULT_UPDATES, secret_token: SECRET });
  });

  it('Update with a changed URL moves the webhook in place (same physical id: no replacement, no Delete)', async () => {
    botApi.webhook = { url: OUR_URL, allowed_updates: DEFAULT_UPDATES, secret_token: SECRET };
    const response = await handler(cfnEvent('update', { WebhookUrl: NEW_URL }, { oldProperties: { WebhookUrl: OUR_URL } }));
    expect(recordedCalls()).toEqual([setWebhookCall(NEW_URL)]);
    expect(response).toEqual({ PhysicalResourceId: PHYSICAL_ID, Data: { WebhookUrl: NEW_URL, AllowedUpdates: DEFAULT_UPDATES.join(',') } });
    expect(botApi.webhook.url).toBe(NEW_URL);
  });

  it('Delete removes the webhook while it points at this stack', async () => {
    botApi.webhook = { url: OUR_URL, allowed_updates: DEFAULT_UPDATES, secret_token: SECRET };
    const response = await handler(cfnEvent('delete', { WebhookUrl: OUR_URL }));
    expect(recordedCalls()).toEqual([
      { method: 'getWebhookInfo', body: {} },
      { method: 'deleteWebhook', body: { drop_pending_updates: false } },
    ]);
    expect(response.PhysicalResourceId).toBe(PHYSICAL_ID);
    expect(botApi.webhook.url).toBe('');
  });

  it('Delete leaves a webhook that another stack has taken over', async () => {
    botApi.webhook = { url: OTHER_STACK_URL, allowed_updates: DEFAULT_UPDATES, secret_token: 'theirs' };
    const response = await handler(cfnEvent('delete', { WebhookUrl: OUR_URL }));
    expect(recordedCalls()).toEqual([{ method: 'getWebhookInfo', body: {} }]);
    expect(response.PhysicalResourceId).toBe(PHYSICAL_ID);
    expect(botApi.webhook.url).toBe(OTHER_STACK_URL);
  });

  it('Delete succeeds without deleting when Telegram rejects the token (401), so the stack can still be deleted', async () => {
    botApi.webhook = { url: OUR_URL, allowed_updates: DEFAULT_UPDATES, secret_token: SECRET };
    botApi.acceptedToken = `${BOT_ID}:a-token-issued-after-revoking-the-old-one`;
    const response = await handler(cfnEvent('delete', { WebhookUrl: OUR_URL }));
    expect(recordedCalls()).toEqual([{ method: 'getWebhookInfo', body: {} }]);
    expect(response.PhysicalResourceId).toBe(PHYSICAL_ID);
    expect(botApi.webhook.url).toBe(OUR_URL);
  });

  it('Delete of a resource registered for another bot (the token changed: replaced) touches nothing', async () => {
    botApi.webhook = { url: OUR_URL, allowed_updates: DEFAULT_UPDATES, secret_token: SECRET };
    const response = await handler(cfnEvent('delete', { WebhookUrl: OUR_URL }, { physicalResourceId: 'telegram-webhook:5550001' }));
    expect(botApi.calls).toEqual([]);
    expect(response.PhysicalResourceId).toBe('telegram-webhook:5550001');
    expect(botApi.webhook.url).toBe(OUR_URL);
  });

  it('Delete throws on a Telegram failure that a retry may fix (not a 401)', async () => {
    botApi.webhook = { url: OUR_URL, allowed_updates: DEFAULT_UPDATES, secret_token: SECRET };
    botApi.refuse = { method: 'getWebhookInfo', status: 429, body: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 5', parameters: { retry_after: 5 } } };
    await expect(handler(cfnEvent('delete', { WebhookUrl: OUR_URL }))).rejects.toThrow('Telegram Bot API getWebhookInfo failed: 429 Too Many Requests: retry after 5');
    expect(botApi.webhook.url).toBe(OUR_URL);
  });

  it('Create throws with Telegram\'s description when setWebhook answers ok:false', async () => {
    botApi.refuse = { method: 'setWebhook', status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: bad webhook: Failed to resolve host: Name or service not known' } };
    const failure = await handler(cfnEvent('create', { WebhookUrl: OUR_URL })).then(() => undefined, (error: unknown) => error as Error);
    expect(failure?.message).toBe('Telegram Bot API setWebhook failed: 400 Bad Request: bad webhook: Failed to resolve host: Name or service not known');
    expect(recordedCalls()).toEqual([setWebhookCall(OUR_URL)]);
  });

  it('Create and Update throw when the token is rejected (a deploy must not pass with the bot unhooked)', async () => {
    botApi.acceptedToken = `${BOT_ID}:another-token-entirely-000000`;
    await expect(handler(cfnEvent('create', { WebhookUrl: OUR_URL }))).rejects.toThrow('Telegram Bot API setWebhook failed: 401 Unauthorized');
    await expect(handler(cfnEvent('update', { WebhookUrl: NEW_URL }))).rejects.toThrow('401 Unauthorized');
  });

  it('Create refuses a missing or non-HTTPS WebhookUrl before calling Telegram', async () => {
    await expect(handler(cfnEvent('create', {}))).rejects.toThrow('WebhookUrl: is required');
    await expect(handler(cfnEvent('create', { WebhookUrl: 'http://insecure.example.com/telegram/webhook' }))).rejects.toThrow('WebhookUrl: expected an https URL');
    await expect(handler(cfnEvent('create', { WebhookUrl: OUR_URL, AllowedUpdates: ['message', 'Message; DROP'] }))).rejects.toThrow('AllowedUpdates');
    expect(botApi.calls).toEqual([]);
  });

  it('never puts the token or the secret in a physical id, a response, an error or a log line', async () => {
    output.length = 0;
    const created = await handler(cfnEvent('create', { WebhookUrl: OUR_URL }));
    const deleted = await handler(cfnEvent('delete', { WebhookUrl: OUR_URL }));
    botApi.refuse = { method: 'setWebhook', status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: bad webhook' } };
    const failure = await handler(cfnEvent('create', { WebhookUrl: OUR_URL })).then(() => undefined, (error: unknown) => error as Error);
    const written = output.join('');
    // The capture works: the resource logged what it did (so the absence below means something).
    expect(written).toContain('"outcome":"registered"');
    expect(written).toContain('"outcome":"deleted"');
    for (const text of [JSON.stringify(created), JSON.stringify(deleted), String(failure?.message), String(failure?.stack), written]) {
      expect(text).not.toContain(TOKEN_SECRET_PART);
      expect(text).not.toContain(SECRET);
    }
  });
});

describe('lib/telegram (Bot API client and the default update kinds)', () => {
  it('a network failure throws a clear error that names the method and host, not the token', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const failure = await callBotApi({ ...getConfig().telegram, apiUrl: `http://127.0.0.1:${port}` }, TOKEN, 'setWebhook', {}).then(
      () => undefined,
      (error: unknown) => error as BotApiError,
    );
    expect(failure).toBeInstanceOf(BotApiError);
    expect(failure?.message).toBe(`Telegram Bot API setWebhook failed: 127.0.0.1:${port} unreachable (ECONNREFUSED)`);
    expect(failure?.errorCode).toBeUndefined();
  });

  it('the default allowed_updates are exactly the kinds the webhook stores', () => {
    const message: Message = { message_id: 1, date: 1_750_000_000, chat: { id: -100, type: 'supergroup', title: 'g' }, text: 'hi' };
    const handled = (kind: string) => messageOf({ update_id: 1, [kind]: message }) !== undefined;
    expect(DEFAULT_UPDATES.filter(handled)).toEqual(DEFAULT_UPDATES);
    // Kinds that carry a message-like object but are skipped: asking Telegram for them would only cost deliveries.
    expect(['business_message', 'edited_business_message', 'message_reaction', 'callback_query', 'my_chat_member'].filter(handled)).toEqual([]);
    expect([...HANDLED_UPDATE_KINDS]).toEqual(DEFAULT_UPDATES);
  });
});
