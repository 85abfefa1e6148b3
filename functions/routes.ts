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
}

type RouteInput = Omit<Route, 'write' | 'auth' | 'secrets' | 'memoryMb' | 'timeoutSeconds'> & Partial<Route>;

const read = (route: RouteInput): Route => ({ write: false, auth: 'jwt', secrets: [], memoryMb: 256, timeoutSeconds: 10, ...route });
const write = (route: RouteInput): Route => read({ ...route, write: true });
const open = (route: RouteInput): Route => read({ auth: 'none', memoryMb: 128, timeoutSeconds: 3, ...route });

const SP: StoreName[] = ['scylla', 'postgres'];

export const routes: Route[] = [
  write({ tag: 'channels', method: 'POST', path: '/channels', handler: 'create-channel', stores: SP, summary: 'Create a channel; the caller becomes its owner', body: schemas.createChannelBody, success: { status: 201, description: 'The channel' } }),
  read({ tag: 'channels', method: 'GET', path: '/channels/{channel_id}', handler: 'get-channel', stores: SP, summary: 'Get a channel', params: schemas.channelPath, success: { status: 200, description: 'The channel' } }),
  write({ tag: 'channels', method: 'PUT', path: '/channels/{channel_id}/members/{user_id}', handler: 'add-member', stores: SP, summary: 'Add a member (owner or service)', params: schemas.memberPath, success: { status: 204, description: 'Added (idempotent)' } }),
  write({ tag: 'channels', method: 'DELETE', path: '/channels/{channel_id}/members/{user_id}', handler: 'remove-member', stores: SP, summary: 'Remove a member (owner, service, or the member themself)', params: schemas.memberPath, success: { status: 204, description: 'Removed (idempotent)' } }),
  write({ tag: 'messages', method: 'POST', path: '/channels/{channel_id}/messages', handler: 'create-message', stores: SP, summary: 'Create a message; a repeated nonce returns the first message with 200', params: schemas.channelPath, body: schemas.createMessageBody, success: { status: 201, description: 'The new message (200 with the first message for a repeated nonce)' } }),
  read({ tag: 'messages', method: 'GET', path: '/channels/{channel_id}/messages', handler: 'list-messages', stores: SP, summary: 'A page of messages, newest first', params: schemas.channelPath, query: schemas.listMessagesQuery, success: { status: 200, description: '{"messages": [...]}' } }),
  read({ tag: 'messages', method: 'GET', path: '/channels/{channel_id}/messages/{message_id}', handler: 'get-message', stores: SP, summary: 'Get one message', params: schemas.messagePath, success: { status: 200, description: 'The message' } }),
  write({ tag: 'messages', method: 'PATCH', path: '/channels/{channel_id}/messages/{message_id}', handler: 'edit-message', stores: SP, summary: 'Edit a message (author only)', params: schemas.messagePath, body: schemas.editMessageBody, success: { status: 200, description: 'The message with edited_at set' } }),
  write({ tag: 'messages', method: 'DELETE', path: '/channels/{channel_id}/messages/{message_id}', handler: 'delete-message', stores: SP, summary: 'Delete a message (author, owner or service)', params: schemas.messagePath, success: { status: 204, description: 'Deleted' } }),
  write({ tag: 'reactions', method: 'PUT', path: '/channels/{channel_id}/messages/{message_id}/reactions/{emoji}', handler: 'put-reaction', stores: SP, summary: 'React (idempotent per user and emoji)', params: schemas.reactionPath, success: { status: 204, description: 'Reacted' } }),
  write({ tag: 'reactions', method: 'DELETE', path: '/channels/{channel_id}/messages/{message_id}/reactions/{emoji}', handler: 'delete-reaction', stores: SP, summary: 'Remove your reaction (idempotent)', params: schemas.reactionPath, success: { status: 204, description: 'Removed' } }),
  read({ tag: 'reactions', method: 'GET', path: '/channels/{channel_id}/messages/{message_id}/reactions', handler: 'get-reactions', stores: SP, summary: 'Reaction counts and your own reactions', params: schemas.messagePath, success: { status: 200, description: '{"counts": {"👍": 3}, "mine": ["👍"]}' } }),
  write({ tag: 'pins', method: 'PUT', path: '/channels/{channel_id}/pins/{message_id}', handler: 'pin-message', stores: SP, summary: 'Pin a message (idempotent)', params: schemas.pinPath, success: { status: 204, description: 'Pinned' } }),
  write({ tag: 'pins', method: 'DELETE', path: '/channels/{channel_id}/pins/{message_id}', handler: 'unpin-message', stores: SP, summary: 'Unpin a message (idempotent)', params: schemas.pinPath, success: { status: 204, description: 'Unpinned' } }),
  read({ tag: 'pins', method: 'GET', path: '/channels/{channel_id}/pins', handler: 'list-pins', stores: SP, summary: 'Pinned messages, most recently pinned first', params: schemas.channelPath, success: { status: 200, description: '{"messages": [...]}' } }),
  write({ tag: 'read-positions', method: 'PUT', path: '/channels/{channel_id}/read-position', handler: 'set-read-position', stores: SP, summary: 'Move your read position (never backwards)', params: schemas.channelPath, body: schemas.readPositionBody, success: { status: 200, description: '{"message_id": "..."}: the stored position' } }),
  read({ tag: 'read-positions', method: 'GET', path: '/channels/{channel_id}/read-position', handler: 'get-read-position', stores: SP, summary: 'Your read position and unread count (capped at 1000)', params: schemas.channelPath, success: { status: 200, description: '{"message_id", "unread_count", "unread_capped"}' } }),
  read({ tag: 'search', method: 'GET', path: '/channels/{channel_id}/search', handler: 'search-messages', stores: SP, summary: 'Full-text search in the channel, best match first', params: schemas.channelPath, query: schemas.searchQuery, success: { status: 200, description: '{"messages": [...], "next_cursor": "..." | null}' } }),
  write({ tag: 'typing', method: 'POST', path: '/channels/{channel_id}/typing', handler: 'start-typing', stores: ['scylla', 'postgres', 'redis'], summary: 'Show the caller as typing for 8 s', params: schemas.channelPath, success: { status: 204, description: 'Typing' } }),
  read({ tag: 'typing', method: 'GET', path: '/channels/{channel_id}/typing', handler: 'get-typing', stores: ['scylla', 'postgres', 'redis'], summary: 'Who is typing', params: schemas.channelPath, success: { status: 200, description: '{"user_ids": [...]}' } }),
  write({ tag: 'presence', method: 'PUT', path: '/presence', handler: 'set-presence', stores: ['redis'], summary: 'Set your presence for 60 s', body: schemas.presenceBody, success: { status: 204, description: 'Set' } }),
  read({ tag: 'presence', method: 'GET', path: '/presence', handler: 'get-presence', stores: ['redis'], summary: 'Presence of up to 100 users', query: schemas.presenceQuery, success: { status: 200, description: '{"presence": {"<uuid>": "online"}}' } }),
  read({ tag: 'telegram', method: 'POST', path: '/telegram/webhook', handler: 'telegram-webhook', stores: SP, auth: 'telegram-secret', secrets: ['telegramWebhookSecret'], summary: 'Telegram Bot API webhook (X-Telegram-Bot-Api-Secret-Token)', body: schemas.telegramUpdateBody, success: { status: 200, description: 'Acknowledged (stored, duplicate, edited or skipped)' } }),
  read({ tag: 'telegram', method: 'GET', path: '/telegram/chats/{telegram_chat_id}/messages/{telegram_message_id}', handler: 'get-telegram-message', stores: SP, summary: 'A bridged message by its Telegram ids', params: schemas.telegramMessagePath, success: { status: 200, description: 'The message' } }),
  open({ tag: 'health', method: 'GET', path: '/health/live', handler: 'health-live', stores: [], summary: 'Liveness probe', success: { status: 200, description: '{"status": "ok"}' } }),
  open({ tag: 'health', method: 'GET', path: '/health/ready', handler: 'health-ready', stores: ['scylla', 'postgres', 'redis'], memoryMb: 256, timeoutSeconds: 5, summary: 'Readiness probe: every store answers', success: { status: 200, description: '{"status": "ok", "checks": {...}}; 503 names what is down' } }),
  open({ tag: 'docs', method: 'GET', path: '/openapi.json', handler: 'get-openapi', stores: [], summary: 'This API as an OpenAPI 3.1 document', success: { status: 200, description: 'OpenAPI 3.1 JSON' } }),
  open({ tag: 'docs', method: 'GET', path: '/docs', handler: 'get-docs', stores: [], summary: 'This API rendered for a browser', success: { status: 200, description: 'HTML' } }),
];

/** Every store a route's Lambda reaches: its use case's, plus Redis for a write's rate limit. */
export function storesOf(route: Pick<Route, 'stores' | 'write'>): StoreName[] {
  return route.write && !route.stores.includes('redis') ? [...route.stores, 'redis'] : route.stores;
}

export function routeNamed(handler: string): Route {
  const route = routes.find((candidate) => candidate.handler === handler);
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
  for (const route of routes) {
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
