/**
 * The one route table: everything a route is, said once. CDK deploys one Lambda per entry behind the HTTP
 * API (memory, timeout, the secrets and network of its stores); the request pipeline reads the schemas,
 * the auth kind and whether the route is a rate-limited write; the local server serves the same entries
 * through the same handlers; the OpenAPI document is generated from it.
 */
import type * as z from 'zod/mini';
import * as schemas from '#lib/api/schemas.js';
import type { StoreName } from '#lib/config.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * How a caller proves who it is: `jwt` (API Gateway's JWT authorizer, or the local server's equal), `none`
 * (probes and docs), `telegram-secret` (Telegram's webhook header, checked before anything else is read).
 */
export type AuthKind = 'jwt' | 'none' | 'telegram-secret';

/** Secrets a route needs beyond its stores' credentials. */
export type ExtraSecret = 'telegramWebhookSecret';

export interface Route {
  method: HttpMethod;
  /** API Gateway syntax: `{name}` for a path parameter. */
  path: string;
  /** The entry point `functions/<handler>.ts`, and the `route` dimension of every metric it emits. */
  handler: string;
  /** Stores the use case reaches. A write also reaches Redis for its rate limit: see `storesOf`. */
  stores: StoreName[];
  /** A write spends the caller's rate-limit quota, after its request is found valid. */
  write: boolean;
  auth: AuthKind;
  secrets: ExtraSecret[];
  memoryMb: number;
  timeoutSeconds: number;
  summary: string;
  tag: string;
  /** Success status and what it returns, for the OpenAPI document. */
  success: { status: number; description: string };
  params?: z.ZodMiniType;
  query?: z.ZodMiniType;
  body?: z.ZodMiniType;
  /** The success body's schema (lib/api/responses.ts): the OpenAPI document and the response check use it. */
  response?: z.ZodMiniType;
}

type RouteInput = Omit<Route, 'handler' | 'write' | 'auth' | 'secrets' | 'memoryMb' | 'timeoutSeconds'> & Partial<Route>;
type Declared<H extends string, R extends RouteInput> = Omit<Route, keyof R | 'handler'> & Omit<R, 'stores'> & { handler: H; stores: StoreName[] };

/* The handler name is a separate argument so its literal type survives: handlers look their route up by it. */
const read = <H extends string, R extends RouteInput>(handler: H, route: R): Declared<H, R> =>
  ({ write: false, auth: 'jwt', secrets: [], memoryMb: 256, timeoutSeconds: 10, ...route, handler });
const write = <H extends string, R extends RouteInput>(handler: H, route: R): Declared<H, R & { write: true }> => read(handler, { ...route, write: true as const });
const open = <H extends string, R extends RouteInput>(handler: H, route: R): Declared<H, R> =>
  read(handler, { auth: 'none' as const, memoryMb: 128, timeoutSeconds: 3, ...route });

const SP: StoreName[] = ['scylla', 'postgres'];

export const routes = [
  write('create-channel', { tag: 'channels', method: 'POST', path: '/channels', stores: SP, summary: 'Create a channel; the caller becomes its owner', body: schemas.createChannelBody, success: { status: 201, description: 'The channel' } }),
  read('get-channel', { tag: 'channels', method: 'GET', path: '/channels/{channel_id}', stores: SP, summary: 'Get a channel', params: schemas.channelPath, success: { status: 200, description: 'The channel' } }),
  write('add-member', { tag: 'channels', method: 'PUT', path: '/channels/{channel_id}/members/{user_id}', stores: SP, summary: 'Add a member (owner or service)', params: schemas.memberPath, success: { status: 204, description: 'Added (idempotent)' } }),
  write('remove-member', { tag: 'channels', method: 'DELETE', path: '/channels/{channel_id}/members/{user_id}', stores: SP, summary: 'Remove a member (owner, service, or the member themself)', params: schemas.memberPath, success: { status: 204, description: 'Removed (idempotent)' } }),
  write('create-message', { tag: 'messages', method: 'POST', path: '/channels/{channel_id}/messages', stores: SP, summary: 'Create a message; a repeated nonce returns the first message with 200', params: schemas.channelPath, body: schemas.createMessageBody, success: { status: 201, description: 'The new message (200 with the first message for a repeated nonce)' } }),
  read('list-messages', { tag: 'messages', method: 'GET', path: '/channels/{channel_id}/messages', stores: SP, summary: 'A page of messages, newest first', params: schemas.channelPath, query: schemas.listMessagesQuery, success: { status: 200, description: '{"messages": [...]}' } }),
  read('get-message', { tag: 'messages', method: 'GET', path: '/channels/{channel_id}/messages/{message_id}', stores: SP, summary: 'Get one message', params: schemas.messagePath, success: { status: 200, description: 'The message' } }),
  write('edit-message', { tag: 'messages', method: 'PATCH', path: '/channels/{channel_id}/messages/{message_id}', stores: SP, summary: 'Edit a message (author only)', params: schemas.messagePath, body: schemas.editMessageBody, success: { status: 200, description: 'The message with edited_at set' } }),
  write('delete-message', { tag: 'messages', method: 'DELETE', path: '/channels/{channel_id}/messages/{message_id}', stores: SP, summary: 'Delete a message (author, owner or service)', params: schemas.messagePath, success: { status: 204, description: 'Deleted' } }),
  write('put-reaction', { tag: 'reactions', method: 'PUT', path: '/channels/{channel_id}/messages/{message_id}/reactions/{emoji}', stores: SP, summary: 'React (idempotent per user and emoji)', params: schemas.reactionPath, success: { status: 204, description: 'Reacted' } }),
  write('delete-reaction', { tag: 'reactions', method: 'DELETE', path: '/channels/{channel_id}/messages/{message_id}/reactions/{emoji}', stores: SP, summary: 'Remove your reaction (idempotent)', params: schemas.reactionPath, success: { status: 204, description: 'Removed' } }),
  read('get-reactions', { tag: 'reactions', method: 'GET', path: '/channels/{channel_id}/messages/{message_id}/reactions', stores: SP, summary: 'Reaction counts and your own reactions', params: schemas.messagePath, success: { status: 200, description: '{"counts": {"👍": 3}, "mine": ["👍"]}' } }),
  write('pin-message', { tag: 'pins', method: 'PUT', path: '/channels/{channel_id}/pins/{message_id}', stores: SP, summary: 'Pin a message (idempotent)', params: schemas.pinPath, success: { status: 204, description: 'Pinned' } }),
  write('unpin-message', { tag: 'pins', method: 'DELETE', path: '/channels/{channel_id}/pins/{message_id}', stores: SP, summary: 'Unpin a message (idempotent)', params: schemas.pinPath, success: { status: 204, description: 'Unpinned' } }),
  read('list-pins', { tag: 'pins', method: 'GET', path: '/channels/{channel_id}/pins', stores: SP, summary: 'Pinned messages, most recently pinned first', params: schemas.channelPath, success: { status: 200, description: '{"messages": [...]}' } }),
  write('set-read-position', { tag: 'read-positions', method: 'PUT', path: '/channels/{channel_id}/read-position', stores: SP, summary: 'Move your read position (never backwards)', params: schemas.channelPath, body: schemas.readPositionBody, success: { status: 200, description: '{"message_id": "..."}: the stored position' } }),
  read('get-read-position', { tag: 'read-positions', method: 'GET', path: '/channels/{channel_id}/read-position', stores: SP, summary: 'Your read position and unread count (capped at 1000)', params: schemas.channelPath, success: { status: 200, description: '{"message_id", "unread_count", "unread_capped"}' } }),
  read('search-messages', { tag: 'search', method: 'GET', path: '/channels/{channel_id}/search', stores: SP, summary: 'Full-text search in the channel, best match first', params: schemas.channelPath, query: schemas.searchQuery, success: { status: 200, description: '{"messages": [...], "next_cursor": "..." | null}' } }),
  write('start-typing', { tag: 'typing', method: 'POST', path: '/channels/{channel_id}/typing', stores: ['scylla', 'postgres', 'redis'], summary: 'Show the caller as typing for 8 s', params: schemas.channelPath, success: { status: 204, description: 'Typing' } }),
  read('get-typing', { tag: 'typing', method: 'GET', path: '/channels/{channel_id}/typing', stores: ['scylla', 'postgres', 'redis'], summary: 'Who is typing', params: schemas.channelPath, success: { status: 200, description: '{"user_ids": [...]}' } }),
  write('set-presence', { tag: 'presence', method: 'PUT', path: '/presence', stores: ['redis'], summary: 'Set your presence for 60 s', body: schemas.presenceBody, success: { status: 204, description: 'Set' } }),
  read('get-presence', { tag: 'presence', method: 'GET', path: '/presence', stores: ['redis'], summary: 'Presence of up to 100 users', query: schemas.presenceQuery, success: { status: 200, description: '{"presence": {"<uuid>": "online"}}' } }),
  read('telegram-webhook', { tag: 'telegram', method: 'POST', path: '/telegram/webhook', stores: SP, auth: 'telegram-secret', secrets: ['telegramWebhookSecret'], summary: 'Telegram Bot API webhook (X-Telegram-Bot-Api-Secret-Token)', body: schemas.telegramUpdateBody, success: { status: 200, description: 'Acknowledged (stored, duplicate, edited or skipped)' } }),
  read('get-telegram-message', { tag: 'telegram', method: 'GET', path: '/telegram/chats/{telegram_chat_id}/messages/{telegram_message_id}', stores: SP, summary: 'A bridged message by its Telegram ids', params: schemas.telegramMessagePath, success: { status: 200, description: 'The message' } }),
  // v2: channels and members
  // v2: messages
  // v2: templates
  open('health-live', { tag: 'health', method: 'GET', path: '/health/live', stores: [], summary: 'Liveness probe', success: { status: 200, description: '{"status": "ok"}' } }),
  open('health-ready', { tag: 'health', method: 'GET', path: '/health/ready', stores: ['scylla', 'postgres', 'redis'], memoryMb: 256, timeoutSeconds: 5, summary: 'Readiness probe: every store answers', success: { status: 200, description: '{"status": "ok", "checks": {...}}; 503 names what is down' } }),
  open('get-openapi', { tag: 'docs', method: 'GET', path: '/openapi.json', stores: [], summary: 'This API as an OpenAPI 3.1 document', success: { status: 200, description: 'OpenAPI 3.1 JSON' } }),
  open('get-docs', { tag: 'docs', method: 'GET', path: '/docs', stores: [], summary: 'This API rendered for a browser', success: { status: 200, description: 'HTML' } }),
] satisfies Route[];

export type RouteName = (typeof routes)[number]['handler'];
/** The route served by `functions/<H>.ts`, with its schemas' exact types. */
export type RouteOf<H extends RouteName> = Extract<(typeof routes)[number], { handler: H }>;

/** Every store a route's Lambda reaches: its use case's, plus Redis for a write's rate limit. */
export function storesOf(route: Pick<Route, 'stores' | 'write'>): StoreName[] {
  return route.write && !route.stores.includes('redis') ? [...route.stores, 'redis'] : route.stores;
}

export function routeNamed<H extends RouteName>(handler: H): RouteOf<H> {
  const route = (routes as Route[]).find((candidate) => candidate.handler === handler) as RouteOf<H> | undefined;
  if (!route) throw new Error(`No route in the route table is served by functions/${handler}.ts`);
  return route;
}

/** Lambdas outside the HTTP API: the migration custom resource and the scheduled reconciler. */
export interface BackgroundFunction {
  handler: string;
  stores: StoreName[];
  secrets: ExtraSecret[];
  memoryMb: number;
  timeoutSeconds: number;
}

export const migrateFunction: BackgroundFunction = { handler: 'migrate', stores: ['scylla', 'postgres'], secrets: [], memoryMb: 512, timeoutSeconds: 600 };

/** Runs every few minutes, one at a time; stops before its timeout and resumes on the next run. */
export const reconcileFunction: BackgroundFunction & { scheduleMinutes: number } = {
  handler: 'reconcile',
  stores: ['scylla', 'postgres'],
  secrets: [],
  memoryMb: 512,
  timeoutSeconds: 300,
  scheduleMinutes: 5,
};

/** Compiles `/channels/{channel_id}` to a matcher returning the path parameters. */
export function matchRoute(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
  for (const route of routes as Route[]) {
    if (route.method !== method) continue;
    const names: string[] = [];
    const pattern = new RegExp(
      `^${route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, name: string) => {
        names.push(name);
        return '([^/]+)';
      })}$`,
    );
    const match = pattern.exec(path);
    if (!match) continue;
    const params: Record<string, string> = {};
    names.forEach((name, index) => {
      params[name] = match[index + 1]!;
    });
    return { route, params };
  }
  return undefined;
}
