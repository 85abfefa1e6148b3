/**
 * What is invoked, in an order that makes each call meaningful: the migration custom resource (Create on
 * empty stores, Update, and Delete at the end), every HTTP route once (create a channel, post, react, pin, …,
 * delete last), the WebSocket authorizer and routes, the fan-out and the search indexer with changes the
 * functions really put on the bus, the reconciler with a scheduled event, and the purge with the message delete-channel really sent.
 * The Telegram webhook registration runs as CloudFormation runs it: Create and Update on deploy (before the
 * reconciler, whose webhook-health check then finds the webhook), Delete at the end (the stack's delete),
 * against the local Bot API, whose recorded calls are checked.
 */
import { randomUUID } from 'node:crypto';
import { mintToken } from '../../infra/local/jwt.js';
import { routes, type Route } from '../../functions/routes.js';
import { SERVICE_SCOPE } from '../../lib/auth/principal.js';
import { HANDLED_UPDATE_KINDS } from '../../lib/telegram/webhook-registration.js';
import { checkHandlerResult } from '../support/openapi-check.js';
import {
  customResourceEvent,
  eventBridgeEvent,
  httpEvent,
  jwtClaims,
  scheduledEvent,
  sqsEvent,
  webSocketAuthorizerEvent,
  webSocketRouteEvent,
} from './events.js';
import type { Harness } from './harness.js';
import type { LocalAws, RecordedCall } from './local-aws.js';

export interface ScenarioContext {
  harness: Harness;
  aws: LocalAws;
  stackName: string;
  /** The HTTP API's and the WebSocket API's (made-up) ids. */
  httpApiId: string;
  /** The HTTP API's invoke URL of each of its stages (`https://{id}.execute-api.{region}.amazonaws.com[/{stage}]`). */
  httpApiBaseUrls: string[];
  webSocketApiId: string;
  /** The custom resources served by a function, by its handler name. */
  customResources: Map<string, { logicalId: string; resourceType: string; serviceToken: string; properties: Record<string, unknown> }>;
  reconcileRuleArn: string;
  /** The environment of a function, by handler name (for the issuer, the audience, the webhook secret). */
  environmentOf(handler: string): Record<string, string>;
  issuer: string;
  audience: string;
  serviceAudience: string;
  webhookSecret: string;
}

type Json = Record<string, unknown>;
const routeOf = (handler: string): Route => {
  const route = (routes as Route[]).find((candidate) => candidate.handler === handler);
  if (!route) throw new Error(`no route ${handler}`);
  return route;
};

/** Handlers every HTTP route of the route table is covered by (the table decides what "every" is). */
export const HTTP_HANDLERS = new Set((routes as Route[]).map((route) => route.handler));

interface HttpResult {
  statusCode?: number;
  headers?: Record<string, unknown>;
  body?: string;
}

const parseBody = (result: HttpResult): Json => {
  try {
    return JSON.parse(result.body ?? '{}') as Json;
  } catch {
    return {};
  }
};

export async function runScenario(ctx: ScenarioContext): Promise<void> {
  const { harness } = ctx;
  const owner = randomUUID();
  const member = randomUUID();
  const service = randomUUID();
  const claims = {
    owner: jwtClaims({ sub: owner, issuer: ctx.issuer, audience: ctx.audience }),
    member: jwtClaims({ sub: member, issuer: ctx.issuer, audience: ctx.audience }),
    service: jwtClaims({ sub: service, issuer: ctx.issuer, audience: ctx.serviceAudience, scope: SERVICE_SCOPE }),
  };

  /** One HTTP request to the route served by `handler`: its documented success status and response schema. */
  const http = async (
    handler: string,
    input: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown; as?: keyof typeof claims; headers?: Record<string, string> },
    label?: string,
  ): Promise<Json | undefined> => {
    const route = routeOf(handler);
    const event = httpEvent({
      apiId: ctx.httpApiId,
      method: route.method,
      route: route.path,
      params: input.params,
      query: input.query,
      body: input.body,
      headers: input.headers,
      claims: route.auth === 'jwt' ? claims[input.as ?? 'owner'] : undefined,
    });
    const result = (await harness.invoke(handler, label ?? `${route.method} ${route.path}`, event, (raw) => {
      const answer = raw as HttpResult;
      const status = String(answer.statusCode ?? '?');
      if (answer.statusCode !== route.success.status) {
        return { status, problem: `expected ${route.success.status} (the route's documented success), got ${status}: ${(answer.body ?? '').slice(0, 800)}` };
      }
      checkHandlerResult(handler, answer);
      return { status };
    })) as HttpResult | undefined;
    return result ? parseBody(result) : undefined;
  };

  // 1. The first migration, as CloudFormation runs it on the first deploy: against an empty keyspace and database.
  const migrate = ctx.customResources.get('migrate');
  let physicalId: string | undefined;
  let versions: { cql: unknown; sql: unknown } | undefined;
  if (!migrate) {
    harness.fail('No Custom:: resource of the template is served by the migrate function (through a Provider or directly)');
  } else {
    const created = (await harness.invoke('migrate', 'CloudFormation Create (empty stores)', customResourceEvent('Create', { ...migrate, stackName: ctx.stackName }), (raw) => {
      const result = raw as { PhysicalResourceId?: unknown; Data?: Record<string, unknown> };
      const data = result.Data ?? {};
      const problems = [
        typeof result.PhysicalResourceId === 'string' && result.PhysicalResourceId ? undefined : 'no PhysicalResourceId',
        ...['CqlApplied', 'SqlApplied', 'CqlVersions', 'SqlVersions'].map((key) => (typeof data[key] === 'string' ? undefined : `Data.${key} missing`)),
        data.CqlApplied ? undefined : 'Data.CqlApplied is empty: no CQL migration ran on the empty keyspace',
        data.SqlApplied ? undefined : 'Data.SqlApplied is empty: no SQL migration ran on the empty database',
      ].filter(Boolean);
      return { status: 'SUCCESS', problem: problems.length ? problems.join('; ') : undefined };
    })) as { PhysicalResourceId: string; Data: Record<string, string> } | undefined;
    physicalId = created?.PhysicalResourceId;
    if (created) versions = { cql: created.Data.CqlVersions, sql: created.Data.SqlVersions };
    await harness.invoke('migrate', 'CloudFormation Update (nothing pending)', customResourceEvent('Update', { ...migrate, stackName: ctx.stackName }, physicalId), (raw) => {
      const result = raw as { PhysicalResourceId?: unknown; Data?: Record<string, unknown> };
      const problems = [
        result.PhysicalResourceId === physicalId ? undefined : `PhysicalResourceId changed (${String(result.PhysicalResourceId)} after ${physicalId}): CloudFormation would replace the resource and send a Delete`,
        result.Data?.CqlApplied === '' && result.Data.SqlApplied === '' ? undefined : `migrations applied again: ${JSON.stringify(result.Data)}`,
        versions && (result.Data?.CqlVersions !== versions.cql || result.Data?.SqlVersions !== versions.sql) ? 'the applied versions differ from Create' : undefined,
      ].filter(Boolean);
      return { status: 'SUCCESS', problem: problems.length ? problems.join('; ') : undefined };
    });
  }

  // 1b. The Telegram webhook registration, as the same deploy runs it (Create), and a later deploy (Update).
  const webhook = ctx.customResources.get('register-telegram-webhook');
  const webhookRun = webhook ? webhookRegistration(ctx, webhook) : undefined;
  if (!webhook) harness.fail('No Custom:: resource of the template is served by the register-telegram-webhook function (through a Provider or directly)');
  await webhookRun?.create();
  await webhookRun?.update();

  // 2. Probes and documents.
  await http('health-live', {});
  await http('health-ready', {});
  await http('get-openapi', {});
  await http('get-docs', {});

  // 3. Channels and members.
  const channel = await http('create-channel', { body: { name: 'general' } });
  const channelId = typeof channel?.id === 'string' ? channel.id : randomUUID();
  const c = { channel_id: channelId };
  await http('get-channel', { params: c });
  await http('update-channel', { params: c, body: { name: 'general-renamed' } });
  await http('list-channels', { query: { limit: '10' } });
  await http('add-member', { params: { ...c, user_id: member } });
  await http('list-members', { params: c });

  // 4. Messages.
  const first = await http('create-message', { params: c, body: { content: 'hello rehearsal world', nonce: randomUUID(), mentions: [member] } });
  const m1 = typeof first?.id === 'string' ? first.id : '1';
  const reply = await http('create-message', { params: c, body: { content: 'a reply', reply_to_id: m1 }, as: 'member' }, 'POST …/messages (a member\'s reply)');
  const m2 = typeof reply?.id === 'string' ? reply.id : '2';
  const extra = [];
  for (const text of ['to be bulk-deleted 1', 'to be bulk-deleted 2']) {
    const created = await http('create-message', { params: c, body: { content: text } }, 'POST …/messages (warm)');
    if (typeof created?.id === 'string') extra.push(created.id);
  }
  await http('list-messages', { params: c, query: { limit: '10' } });
  await http('get-message', { params: { ...c, message_id: m1 } });
  await http('edit-message', { params: { ...c, message_id: m1 }, body: { content: 'hello again, rehearsal world' } });
  await http('list-replies', { params: { ...c, message_id: m1 } });

  // 5. Reactions, pins, read positions, search, typing, presence.
  const reaction = { ...c, message_id: m1, emoji: '👍' };
  await http('put-reaction', { params: reaction, as: 'member' });
  await http('get-reactions', { params: { ...c, message_id: m1 } });
  await http('get-reaction-users', { params: reaction });
  await http('delete-reaction', { params: reaction, as: 'member' });
  await http('pin-message', { params: { ...c, message_id: m1 } });
  await http('list-pins', { params: c });
  await http('unpin-message', { params: { ...c, message_id: m1 } });
  await http('set-read-position', { params: c, body: { message_id: m1 }, as: 'member' });
  await http('get-read-position', { params: c, as: 'member' });
  await http('search-messages', { params: c, query: { q: 'rehearsal' } });
  await http('start-typing', { params: c });
  await http('get-typing', { params: c, as: 'member' });
  await http('set-presence', { body: { status: 'online' } });
  await http('get-presence', { query: { user_ids: `${owner},${member}` } });

  // 6. Templates.
  const template = await http('create-template', { params: c, body: { name: 'greeting', content: 'Hello {{ name }}!' } });
  const templateId = typeof template?.id === 'string' ? template.id : randomUUID();
  await http('list-templates', { params: c });
  await http('update-template', { params: { ...c, template_id: templateId }, body: { content: 'Hi {{ name }}!' } });
  await http('delete-template', { params: { ...c, template_id: templateId } });

  // 7. The changes feed (from the head).
  await http('list-changes', { params: c });

  // 8. Telegram: a service principal links a chat, Telegram delivers a message, a member reads it back.
  const chatId = -1_000_000_000_000 - Math.floor(Math.random() * 1e9);
  await http('link-telegram-chat', { params: c, body: { telegram_chat_id: chatId }, as: 'service' });
  const telegramMessageId = 1 + Math.floor(Math.random() * 1e6);
  const update = {
    update_id: Math.floor(Math.random() * 1e9),
    message: {
      message_id: telegramMessageId,
      date: Math.floor(Date.now() / 1000) - 5,
      chat: { id: chatId, type: 'supergroup', title: 'Rehearsal group' },
      from: { id: 4242, is_bot: false, first_name: 'Ada' },
      text: 'hello from telegram',
    },
  };
  const ack = await http('telegram-webhook', { body: update, headers: { 'x-telegram-bot-api-secret-token': ctx.webhookSecret } }, 'POST /telegram/webhook (secret token)');
  if (ack && ack.status !== 'stored') harness.fail(`telegram-webhook acknowledged the update as ${JSON.stringify(ack)}, not stored`);
  await http('get-telegram-message', { params: { telegram_chat_id: String(chatId), telegram_message_id: String(telegramMessageId) } });

  // 9. Deletes, last but the channel.
  if (extra.length === 2) await http('bulk-delete-messages', { params: c, body: { message_ids: extra } });
  else harness.fail('bulk-delete-messages: not run (its messages were not created)');
  await http('delete-message', { params: { ...c, message_id: m2 }, as: 'member' });
  await http('remove-member', { params: { ...c, user_id: member } });

  // 10. Real-time push: the authorizer with a token of the issuer, the routes, the fan-out with a real change.
  if (harness.has('ws-authorizer')) {
    const token = await mintToken({ sub: owner, issuer: ctx.issuer, audience: ctx.audience });
    const authorizerEvent = webSocketAuthorizerEvent(ctx.webSocketApiId, token);
    const policy = (await harness.invoke('ws-authorizer', '$connect REQUEST authorizer (issuer token)', authorizerEvent, (raw) => {
      const result = raw as { principalId?: string; policyDocument?: { Statement?: { Effect?: string }[] }; context?: Record<string, unknown> };
      const allowed = result.policyDocument?.Statement?.[0]?.Effect === 'Allow' && result.principalId === owner;
      return { status: allowed ? 'Allow' : 'Deny', problem: allowed ? undefined : `expected Allow for ${owner}: ${JSON.stringify(result)}` };
    })) as { context?: Record<string, unknown> } | undefined;
    const connectionId = (authorizerEvent.requestContext as { connectionId: string }).connectionId;
    const authorizer = { ...(policy?.context ?? { userId: owner, service: 'false' }), principalId: owner, integrationLatency: 12 };
    const wsOk = (raw: unknown) => {
      const status = (raw as { statusCode?: number }).statusCode;
      return { status: String(status), problem: status === 200 ? undefined : `expected 200, got ${status}` };
    };
    await harness.invoke('ws-routes', '$connect', webSocketRouteEvent(ctx.webSocketApiId, '$connect', connectionId, authorizer), wsOk);
    await harness.invoke('ws-routes', '$disconnect', webSocketRouteEvent(ctx.webSocketApiId, '$disconnect', connectionId, undefined), wsOk);
  }
  const change = ctx.aws.calls.find((call) => call.service === 'events' && call.operation === 'PutEvents');
  const entry = (change?.body as { Entries?: { Source?: string; DetailType?: string; Detail?: string }[] } | undefined)?.Entries?.[0];
  if (!entry) harness.fail('No function put a change on the bus (EventBridge PutEvents): the changes feed is not published');
  else {
    await harness.invoke('fan-out', `EventBridge change (${entry.DetailType})`, eventBridgeEvent(entry), (raw) => {
      const report = raw as { delivered?: number; failed?: number };
      return { status: 'ok', problem: typeof report.delivered === 'number' && report.failed === 0 ? undefined : `unexpected report ${JSON.stringify(raw)}` };
    });
  }

  // 10b. The search indexer with a message change the functions really put on the bus (the first message: edited
  // since, never deleted, so it is indexed with its current content).
  const created = ctx.aws.calls
    .filter((call) => call.service === 'events' && call.operation === 'PutEvents')
    .map((call) => (call.body as { Entries?: { Source?: string; DetailType?: string; Detail?: string }[] } | undefined)?.Entries?.[0])
    .find((candidate) => candidate?.DetailType === 'message.created' && candidate.Detail?.includes(`"id":"${m1}"`));
  if (!created) harness.fail(`No function put the message.created change of message ${m1} on the bus: the search indexer has nothing to apply`);
  else {
    await harness.invoke('index-messages', `EventBridge change (${created.DetailType})`, eventBridgeEvent(created), (raw) => {
      const report = raw as { outcome?: string };
      return { status: String(report.outcome), problem: report.outcome === 'indexed' ? undefined : `expected the message indexed, got ${JSON.stringify(raw)}` };
    });
    // Now searchable (the indexer read the message's current state: its edit).
    await http('search-messages', { params: c, query: { q: 'rehearsal' } }, 'GET …/search (after the indexer)').then((found) => {
      const ids = Array.isArray(found?.messages) ? (found.messages as { id?: string }[]).map((message) => message.id) : [];
      if (found && !ids.includes(m1)) harness.fail(`search-messages after the indexer ran did not find message ${m1}: ${JSON.stringify(found).slice(0, 400)}`);
    });
  }

  // 11. The channel's delete, and the purge it asks for through the queue.
  await http('delete-channel', { params: c });
  const sent = ctx.aws.calls.find((call) => call.service === 'sqs' && call.operation === 'SendMessage');
  if (!sent) harness.fail('delete-channel sent no purge request to the queue (SQS SendMessage)');
  else {
    const message = sent.body as { QueueUrl: string; MessageBody: string };
    await harness.invoke('purge-channel', 'SQS purge request (from delete-channel)', sqsEvent(message.QueueUrl, message.MessageBody), (raw) => {
      const failures = (raw as { batchItemFailures?: unknown[] }).batchItemFailures;
      return { status: 'ok', problem: Array.isArray(failures) && failures.length === 0 ? undefined : `batch item failures: ${JSON.stringify(raw)}` };
    });
  }

  // 12. The scheduled reconciler.
  const reconcileMark = ctx.aws.calls.length;
  await harness.invoke('reconcile', 'EventBridge scheduled event', scheduledEvent(ctx.reconcileRuleArn), (raw) => {
    const report = raw as { ran?: boolean; failures?: { task: string; error: string }[] };
    if (!report.ran) return { status: 'not ran', problem: `the run did not take its lock: ${JSON.stringify(raw)}` };
    const failures = report.failures ?? [];
    const health = (raw as { webhook?: { error?: string; pending?: number; lastError?: string | null } }).webhook;
    const asked = ctx.aws.calls.slice(reconcileMark).filter((call) => call.service === 'telegram' && call.operation.endsWith(' getWebhookInfo'));
    const problems = [
      failures.length ? `tasks failed: ${JSON.stringify(failures)}` : undefined,
      health === undefined ? 'no webhook health in the report (the reconciler did not check the webhook)' : undefined,
      health?.error ? `the webhook-health task failed: ${health.error}` : undefined,
      health && !health.error && (health.pending !== 0 || health.lastError !== null) ? `unexpected webhook health ${JSON.stringify(health)}` : undefined,
      asked.length === 0 ? 'the reconciler made no getWebhookInfo call to the (local) Bot API' : undefined,
    ].filter(Boolean);
    return { status: failures.length ? `${failures.length} task(s) failed` : health && !health.error ? 'ran, webhook ok' : 'ran', problem: problems.length ? problems.join('; ') : undefined };
  });

  // 13. Other custom resources (a recognised onEvent function), then the migration's Delete.
  await webhookRun?.delete();
  for (const [handler, resource] of ctx.customResources) {
    if (handler === 'migrate' || handler === 'register-telegram-webhook') continue;
    let id: string | undefined;
    for (const type of ['Create', 'Update', 'Delete'] as const) {
      const result = (await harness.invoke(handler, `CloudFormation ${type}`, customResourceEvent(type, { ...resource, stackName: ctx.stackName }, id), (raw) => {
        const answer = (raw ?? {}) as { PhysicalResourceId?: string };
        return { status: 'SUCCESS', problem: undefined, ...(answer.PhysicalResourceId ? {} : {}) };
      })) as { PhysicalResourceId?: string } | undefined;
      id = result?.PhysicalResourceId ?? id ?? `${resource.logicalId}-rehearsal`;
    }
  }
  if (migrate) {
    await harness.invoke('migrate', 'CloudFormation Delete (keeps the data)', customResourceEvent('Delete', { ...migrate, stackName: ctx.stackName }, physicalId), (raw) => {
      const result = raw as { PhysicalResourceId?: unknown };
      return { status: 'SUCCESS', problem: result.PhysicalResourceId === physicalId ? undefined : `PhysicalResourceId ${String(result.PhysicalResourceId)} is not the created ${physicalId}` };
    });
  }
}

type CustomResource = ScenarioContext['customResources'] extends Map<string, infer R> ? R : never;

const botCalls = (calls: RecordedCall[], method: string) =>
  calls.filter((call) => call.service === 'telegram' && call.operation.endsWith(` ${method}`)).map((call) => call.body as { bot: string; params: Record<string, unknown> });

/**
 * The webhook-registration custom resource, with the properties the template gives it (resolved): Create and
 * Update must call setWebhook with the API's /telegram/webhook URL, the secret the webhook route checks and the
 * handled update kinds; Delete must find the webhook still ours (getWebhookInfo) and call deleteWebhook.
 */
function webhookRegistration(ctx: ScenarioContext, resource: CustomResource) {
  const { harness, aws } = ctx;
  const handler = 'register-telegram-webhook';
  const event = { ...resource, stackName: ctx.stackName };
  const properties = resource.properties;
  const url = typeof properties.WebhookUrl === 'string' ? properties.WebhookUrl : undefined;
  const route = routeOf('telegram-webhook');
  const expectedUrls = ctx.httpApiBaseUrls.map((base) => `${base}${route.path}`);
  const env = ctx.environmentOf(handler);
  const secretArn = env.TELEGRAM_WEBHOOK_SECRET_ARN;
  const routeSecretArn = ctx.environmentOf('telegram-webhook').TELEGRAM_WEBHOOK_SECRET_ARN;
  const allowed = Array.isArray(properties.AllowedUpdates) && properties.AllowedUpdates.length > 0 ? properties.AllowedUpdates.map(String) : [...HANDLED_UPDATE_KINDS];
  let physicalId: string | undefined;

  // What is wrong with the template's properties and wiring (checked once, at Create).
  const wiringProblems = () =>
    [
      url === undefined ? `the resource has no WebhookUrl property: ${JSON.stringify(properties)}` : undefined,
      url !== undefined && !expectedUrls.includes(url) ? `WebhookUrl ${url} is not the HTTP API's ${route.path} (${expectedUrls.join(' or ') || 'no stage'})` : undefined,
      secretArn === undefined ? 'the function has no TELEGRAM_WEBHOOK_SECRET_ARN' : undefined,
      secretArn !== undefined && secretArn !== routeSecretArn ? `it registers the secret ${secretArn}, but the webhook route checks ${String(routeSecretArn)}` : undefined,
      properties.WebhookSecretArn !== undefined && properties.WebhookSecretArn !== secretArn
        ? `WebhookSecretArn ${JSON.stringify(properties.WebhookSecretArn)} is not the secret the function registers (${String(secretArn)})`
        : undefined,
    ];

  const registered = (phase: 'Create' | 'Update', mark: number) => (raw: unknown) => {
    const result = raw as { PhysicalResourceId?: unknown; Data?: Record<string, unknown> };
    const sets = botCalls(aws.calls.slice(mark), 'setWebhook');
    const set = sets[0]?.params;
    const secret = secretArn ? aws.secretValue(secretArn) : undefined;
    const held = aws.telegramWebhook();
    const problems = [
      ...(phase === 'Create' ? wiringProblems() : []),
      typeof result.PhysicalResourceId === 'string' && result.PhysicalResourceId ? undefined : 'no PhysicalResourceId',
      phase === 'Update' && result.PhysicalResourceId !== physicalId
        ? `PhysicalResourceId changed (${String(result.PhysicalResourceId)} after ${String(physicalId)}): CloudFormation would replace the resource and send a Delete`
        : undefined,
      result.Data?.WebhookUrl === url ? undefined : `Data.WebhookUrl ${JSON.stringify(result.Data?.WebhookUrl)} is not ${String(url)}`,
      sets.length === 1 ? undefined : `${sets.length} setWebhook calls (expected 1)`,
      set && set.url !== url ? `setWebhook url ${JSON.stringify(set.url)}, expected ${String(url)}` : undefined,
      set && (secret === undefined || set.secret_token !== secret) ? 'setWebhook secret_token is not the value of TELEGRAM_WEBHOOK_SECRET_ARN (the secret the webhook route checks)' : undefined,
      set && JSON.stringify(set.allowed_updates) !== JSON.stringify(allowed) ? `setWebhook allowed_updates ${JSON.stringify(set.allowed_updates)}, expected ${JSON.stringify(allowed)}` : undefined,
      held?.url === url ? undefined : `the Bot API holds the webhook ${JSON.stringify(held?.url)} afterwards`,
    ].filter(Boolean);
    return { status: sets.length ? 'SUCCESS, set' : 'SUCCESS', problem: problems.length ? problems.join('; ') : undefined };
  };

  return {
    async create() {
      const mark = aws.calls.length;
      const created = (await harness.invoke(handler, 'CloudFormation Create (setWebhook)', customResourceEvent('Create', event), registered('Create', mark))) as
        | { PhysicalResourceId?: string }
        | undefined;
      physicalId = created?.PhysicalResourceId;
    },
    async update() {
      if (!physicalId) return harness.fail(`${handler}: Update not run (Create failed)`);
      const mark = aws.calls.length;
      // A later deploy that changed the webhook secret: the registration runs again, in place.
      const current = typeof properties.WebhookSecretArn === 'string' ? properties.WebhookSecretArn : (secretArn ?? 'arn:aws:secretsmanager:::secret:webhook');
      const old = { ...properties, WebhookSecretArn: `${current.replace(/-[A-Za-z0-9]{6}$/, '')}-Prev01` };
      await harness.invoke(handler, 'CloudFormation Update (setWebhook again)', customResourceEvent('Update', event, physicalId, old), registered('Update', mark));
    },
    async delete() {
      if (!physicalId) return harness.fail(`${handler}: Delete not run (Create failed)`);
      const mark = aws.calls.length;
      await harness.invoke(handler, 'CloudFormation Delete (deleteWebhook)', customResourceEvent('Delete', event, physicalId), (raw) => {
        const result = raw as { PhysicalResourceId?: unknown };
        const calls = aws.calls.slice(mark);
        const problems = [
          result.PhysicalResourceId === physicalId ? undefined : `PhysicalResourceId ${String(result.PhysicalResourceId)} is not the created ${String(physicalId)}`,
          botCalls(calls, 'getWebhookInfo').length > 0 ? undefined : 'no getWebhookInfo call (whose webhook it is was not checked)',
          botCalls(calls, 'deleteWebhook').length === 1 ? undefined : `${botCalls(calls, 'deleteWebhook').length} deleteWebhook calls (expected 1: the webhook was ours)`,
          aws.telegramWebhook() === undefined ? undefined : `the Bot API still holds the webhook ${aws.telegramWebhook()!.url}`,
        ].filter(Boolean);
        return { status: 'SUCCESS, deleted', problem: problems.length ? problems.join('; ') : undefined };
      });
    },
  };
}
