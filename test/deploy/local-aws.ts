/**
 * Local stand-ins for the AWS services the functions call, each on its own port so that a request reaching
 * the wrong one is noticed: Secrets Manager (GetSecretValue), EventBridge (PutEvents), SQS (SendMessage),
 * the API Gateway Management API (POST/DELETE @connections), the JWT issuer (OIDC discovery + JWKS), the
 * Telegram Bot API (setWebhook, getWebhookInfo, deleteWebhook, as api.telegram.org answers them) and the
 * Telegram history source. They speak the wire protocols of the SDK versions the project pins:
 * AWS JSON 1.1 for Secrets Manager and EventBridge, AWS JSON 1.0 for SQS (@aws-sdk/client-sqs 3.1164), REST
 * for the Management API. Every call is recorded.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { publicJwks } from '../../infra/local/jwt.js';

export interface RecordedCall {
  service: string;
  operation: string;
  body: unknown;
  at: number;
}

interface Listening {
  url: string;
  close(): Promise<void>;
}

async function listen(handler: (request: IncomingMessage, body: string, response: ServerResponse) => Promise<void> | void): Promise<Listening & { server: Server }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      Promise.resolve(handler(request, Buffer.concat(chunks).toString('utf8'), response)).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: (error as Error).message }));
      });
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const json = (response: ServerResponse, status: number, body: unknown, contentType = 'application/x-amz-json-1.1') => {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomUUID() });
  response.end(text);
};

const awsError = (response: ServerResponse, status: number, type: string, message: string, contentType?: string) =>
  json(response, status, { __type: type, message }, contentType);

export interface LocalAws {
  secretsManagerUrl: string;
  eventBridgeUrl: string;
  sqsUrl: string;
  managementApiUrl: string;
  issuerUrl: string;
  telegramHistoryUrl: string;
  /** The local Bot API: `${telegramApiUrl}/bot<token>/<method>`. */
  telegramApiUrl: string;
  /** The bot's webhook as the local Bot API holds it (undefined: none set), secret token included. */
  telegramWebhook(): BotWebhook | undefined;
  calls: RecordedCall[];
  /** Serves `value` for `arn` (GetSecretValue by ARN or by name). */
  setSecret(arn: string, value: string): void;
  /** What GetSecretValue serves for `arn`. */
  secretValue(arn: string): string | undefined;
  /** Calls answered with an error (a secret not known, an operation not served), each a failure of the run. */
  refused: string[];
  close(): Promise<void>;
}

export interface BotWebhook {
  url: string;
  secretToken: string | undefined;
  allowedUpdates: string[] | undefined;
  dropPendingUpdates: boolean | undefined;
}

/**
 * @param options.botToken the token the bot has (the value of the bot token secret): any other gets Telegram's
 * 401. Read at each call, as the secrets are set after the stand-ins start.
 */
export async function startLocalAws(options: { knownBusNames: () => Set<string>; botToken: () => string | undefined }): Promise<LocalAws> {
  const calls: RecordedCall[] = [];
  const refused: string[] = [];
  const secrets = new Map<string, string>();
  const record = (service: string, operation: string, body: unknown) => calls.push({ service, operation, body, at: Date.now() });

  const secretsManager = await listen((request, body, response) => {
    const target = String(request.headers['x-amz-target'] ?? '');
    if (target !== 'secretsmanager.GetSecretValue') {
      refused.push(`Secrets Manager: ${target || request.method} is not served`);
      return awsError(response, 400, 'InvalidRequestException', `${target} is not served by the rehearsal`);
    }
    const { SecretId } = JSON.parse(body) as { SecretId?: string };
    record('secretsmanager', 'GetSecretValue', { SecretId });
    const arn = [...secrets.keys()].find((known) => known === SecretId || known.split(':secret:')[1]?.replace(/-[A-Za-z0-9]{6}$/, '') === SecretId);
    if (!arn) {
      refused.push(`Secrets Manager: GetSecretValue of ${SecretId}, a secret the template gives to no function's environment`);
      return awsError(response, 400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    }
    const name = arn.split(':secret:')[1]!.replace(/-[A-Za-z0-9]{6}$/, '');
    json(response, 200, {
      ARN: arn,
      Name: name,
      SecretString: secrets.get(arn),
      VersionId: createHash('md5').update(arn).digest('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5'),
      VersionStages: ['AWSCURRENT'],
      CreatedDate: Math.floor(Date.now() / 1000),
    });
  });

  const eventBridge = await listen((request, body, response) => {
    const target = String(request.headers['x-amz-target'] ?? '');
    if (target !== 'AWSEvents.PutEvents') {
      refused.push(`EventBridge: ${target || request.method} is not served`);
      return awsError(response, 400, 'UnknownOperationException', `${target} is not served by the rehearsal`);
    }
    const input = JSON.parse(body) as { Entries?: { EventBusName?: string; Source?: string; DetailType?: string; Detail?: string }[] };
    const entries = input.Entries ?? [];
    record('events', 'PutEvents', input);
    const known = options.knownBusNames();
    json(response, 200, {
      FailedEntryCount: entries.filter((entry) => !known.has(entry.EventBusName ?? 'default')).length,
      Entries: entries.map((entry) =>
        known.has(entry.EventBusName ?? 'default')
          ? { EventId: randomUUID() }
          : { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${entry.EventBusName ?? 'default'} does not exist.` },
      ),
    });
    for (const entry of entries) if (!known.has(entry.EventBusName ?? 'default')) refused.push(`EventBridge: PutEvents to bus ${entry.EventBusName ?? 'default'}, which the stack does not create`);
  });

  const sqs = await listen((request, body, response) => {
    const target = String(request.headers['x-amz-target'] ?? '');
    const contentType = 'application/x-amz-json-1.0';
    if (target !== 'AmazonSQS.SendMessage') {
      refused.push(`SQS: ${target || `${request.method} ${request.url} (not the JSON protocol)`} is not served`);
      return awsError(response, 400, 'com.amazonaws.sqs#UnsupportedOperation', `${target} is not served by the rehearsal`, contentType);
    }
    const input = JSON.parse(body) as { QueueUrl?: string; MessageBody?: string };
    record('sqs', 'SendMessage', input);
    json(response, 200, { MessageId: randomUUID(), MD5OfMessageBody: createHash('md5').update(input.MessageBody ?? '').digest('hex') }, contentType);
  });

  const managementApi = await listen((request, body, response) => {
    const match = /^\/([^/]+)\/@connections\/([^/?]+)$/.exec(request.url ?? '');
    if (!match || (request.method !== 'POST' && request.method !== 'DELETE')) {
      refused.push(`API Gateway Management API: ${request.method} ${request.url} is not served`);
      response.writeHead(404).end();
      return;
    }
    record('apigatewaymanagementapi', request.method === 'POST' ? 'PostToConnection' : 'DeleteConnection', { stage: match[1], connectionId: decodeURIComponent(match[2]!), data: body });
    response.writeHead(request.method === 'POST' ? 200 : 204).end();
  });

  const issuer = await listen(async (request, _body, response) => {
    const path = (request.url ?? '/').split('?')[0];
    record('issuer', `GET ${path}`, undefined);
    if (path === '/.well-known/openid-configuration') {
      return json(response, 200, { issuer: `${issuer.url}/`, jwks_uri: `${issuer.url}/.well-known/jwks.json`, id_token_signing_alg_values_supported: ['RS256'] }, 'application/json');
    }
    if (path === '/.well-known/jwks.json') return json(response, 200, await publicJwks(), 'application/json');
    response.writeHead(404).end();
  });

  // The history source (TELEGRAM_HISTORY_URL): no history to serve; every request is recorded.
  const history = await listen((request, _body, response) => {
    record('telegram-history', `${request.method} ${(request.url ?? '/').split('?')[0]}`, undefined);
    json(response, 200, { messages: [] }, 'application/json');
  });

  // The Telegram Bot API (TELEGRAM_API_URL): POST /bot<token>/<method> with a JSON body, answered as
  // api.telegram.org answers (HTTP status = error_code). Calls are recorded with the token's bot id only.
  let webhook: BotWebhook | undefined;
  const botApi = await listen((request, body, response) => {
    const reply = (status: number, answer: Record<string, unknown>) => json(response, status, answer, 'application/json');
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec((request.url ?? '/').split('?')[0]!);
    if (!match) {
      refused.push(`Telegram Bot API: ${request.method} ${request.url} is not a Bot API call`);
      return reply(404, { ok: false, error_code: 404, description: 'Not Found' });
    }
    const token = decodeURIComponent(match[1]!);
    const method = match[2]!;
    let params: Record<string, unknown>;
    try {
      params = body.trim() === '' ? {} : (JSON.parse(body) as Record<string, unknown>);
    } catch {
      return reply(400, { ok: false, error_code: 400, description: 'Bad Request: can\'t parse JSON object' });
    }
    const bot = token.split(':')[0];
    record('telegram', `${request.method} ${method}`, { bot, params });
    if (request.method !== 'POST' && request.method !== 'GET') return reply(405, { ok: false, error_code: 405, description: 'Method Not Allowed' });
    if (token !== options.botToken()) return reply(401, { ok: false, error_code: 401, description: 'Unauthorized' });
    switch (method) {
      case 'setWebhook': {
        const url = typeof params.url === 'string' ? params.url : '';
        if (url === '') {
          // Telegram: setWebhook with an empty url removes the webhook.
          const had = webhook !== undefined;
          webhook = undefined;
          return reply(200, { ok: true, result: true, description: had ? 'Webhook was deleted' : 'Webhook is already deleted' });
        }
        if (!url.startsWith('https://')) return reply(400, { ok: false, error_code: 400, description: 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook' });
        const secretToken = params.secret_token === undefined ? undefined : typeof params.secret_token === 'string' ? params.secret_token : JSON.stringify(params.secret_token);
        if (secretToken !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secretToken)) {
          return reply(400, { ok: false, error_code: 400, description: 'Bad Request: secret token contains unallowed characters' });
        }
        const allowedUpdates = Array.isArray(params.allowed_updates) ? params.allowed_updates.map(String) : webhook?.allowedUpdates;
        const same = webhook?.url === url;
        webhook = { url, secretToken, allowedUpdates, dropPendingUpdates: typeof params.drop_pending_updates === 'boolean' ? params.drop_pending_updates : undefined };
        return reply(200, { ok: true, result: true, description: same ? 'Webhook is already set' : 'Webhook was set' });
      }
      case 'getWebhookInfo':
        return reply(200, {
          ok: true,
          result: webhook
            ? { url: webhook.url, has_custom_certificate: false, pending_update_count: 0, max_connections: 40, ip_address: '203.0.113.10', ...(webhook.allowedUpdates ? { allowed_updates: webhook.allowedUpdates } : {}) }
            : { url: '', has_custom_certificate: false, pending_update_count: 0 },
        });
      case 'deleteWebhook': {
        const had = webhook !== undefined;
        webhook = undefined;
        return reply(200, { ok: true, result: true, description: had ? 'Webhook was deleted' : 'Webhook is already deleted' });
      }
      default:
        refused.push(`Telegram Bot API: ${method} is not served by the rehearsal`);
        return reply(404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
    }
  });

  const servers = [secretsManager, eventBridge, sqs, managementApi, issuer, history, botApi];
  return {
    secretsManagerUrl: secretsManager.url,
    eventBridgeUrl: eventBridge.url,
    sqsUrl: sqs.url,
    managementApiUrl: managementApi.url,
    issuerUrl: `${issuer.url}/`,
    telegramHistoryUrl: history.url,
    telegramApiUrl: botApi.url,
    telegramWebhook: () => (webhook ? { ...webhook } : undefined),
    calls,
    refused,
    setSecret: (arn, value) => secrets.set(arn, value),
    secretValue: (arn) => secrets.get(arn),
    close: async () => {
      await Promise.all(servers.map((server) => server.close()));
    },
  };
}
