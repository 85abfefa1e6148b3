/**
 * The one route table. CDK deploys one Lambda per entry behind the HTTP API; the local server serves the
 * same entries through the same handlers; the OpenAPI document is generated from it.
 */
import type * as z from 'zod/mini';
import * as schemas from '#lib/api/schemas.js';
import type { StoreName } from '#lib/config.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Route {
  method: HttpMethod;
  /** API Gateway syntax: `{name}` for a path parameter. */
  path: string;
  /** The entry point: `functions/<handler>.ts`. */
  handler: string;
  /** Stores the handler reaches: CDK grants their secrets and network access, nothing more. */
  stores: StoreName[];
  summary: string;
  /** False for routes API Gateway serves without the JWT authorizer. */
  auth: boolean;
  memoryMb: number;
  timeoutSeconds: number;
  /** Success status and what it returns, for the OpenAPI document. */
  success: { status: number; description: string };
  body?: z.ZodMiniType;
  query?: z.ZodMiniType;
  tag: string;
}

const standard = { auth: true, memoryMb: 256, timeoutSeconds: 10 } as const;
const scyllaAndPostgres: StoreName[] = ['scylla', 'postgres'];
/** Writes also reach Redis, for the per-user rate limit. */
const scyllaPostgresRedis: StoreName[] = ['scylla', 'postgres', 'redis'];

export const routes: Route[] = [
  { ...standard, stores: scyllaPostgresRedis, tag: 'channels', method: 'POST', path: '/channels', handler: 'create-channel', summary: 'Create a channel; the caller becomes its owner', body: schemas.createChannelBody, success: { status: 201, description: 'The channel' } },
  { ...standard, stores: scyllaAndPostgres, tag: 'channels', method: 'GET', path: '/channels/{channel_id}', handler: 'get-channel', summary: 'Get a channel', success: { status: 200, description: 'The channel' } },
  { ...standard, stores: scyllaPostgresRedis, tag: 'channels', method: 'PUT', path: '/channels/{channel_id}/members/{user_id}', handler: 'add-member', summary: 'Add a member (owner or service)', success: { status: 204, description: 'Added (idempotent)' } },
  { ...standard, stores: scyllaPostgresRedis, tag: 'channels', method: 'DELETE', path: '/channels/{channel_id}/members/{user_id}', handler: 'remove-member', summary: 'Remove a member (owner, service, or the member themself)', success: { status: 204, description: 'Removed (idempotent)' } },
  { ...standard, stores: scyllaPostgresRedis, tag: 'messages', method: 'POST', path: '/channels/{channel_id}/messages', handler: 'create-message', summary: 'Create a message; a repeated nonce returns the first message with 200', body: schemas.createMessageBody, success: { status: 201, description: 'The new message (200 with the first message for a repeated nonce)' } },
  { ...standard, stores: scyllaAndPostgres, tag: 'messages', method: 'GET', path: '/channels/{channel_id}/messages', handler: 'list-messages', summary: 'A page of messages, newest first', query: schemas.listMessagesQuery, success: { status: 200, description: '{"messages": [...]}' } },
  { ...standard, stores: scyllaAndPostgres, tag: 'messages', method: 'GET', path: '/channels/{channel_id}/messages/{message_id}', handler: 'get-message', summary: 'Get one message', success: { status: 200, description: 'The message' } },
  { ...standard, stores: scyllaPostgresRedis, tag: 'messages', method: 'PATCH', path: '/channels/{channel_id}/messages/{message_id}', handler: 'edit-message', summary: 'Edit a message (author only)', body: schemas.editMessageBody, success: { status: 200, description: 'The message with edited_at set' } },
  { ...standard, stores: scyllaPostgresRedis, tag: 'messages', method: 'DELETE', path: '/channels/{channel_id}/messages/{message_id}', handler: 'delete-message', summary: 'Delete a message (author, owner or service)', success: { status: 204, description: 'Deleted' } },
  { ...standard, stores: scyllaPostgresRedis, tag: 'reactions', method: 'PUT', path: '/channels/{channel_id}/messages/{message_id}/reactions/{emoji}', handler: 'put-reaction', summary: 'React (idempotent per user and emoji)', success: { status: 204, description: 'Reacted' } },
  { ...standard, stores: scyllaPostgresRedis, tag: 'reactions', method: 'DELETE', path: '/channels/{channel_id}/messages/{message_id}/reactions/{emoji}', handler: 'delete-reaction', summary: 'Remove your reaction (idempotent)', success: { status: 204, description: 'Removed' } },
  { ...standard, stores: scyllaAndPostgres, tag: 'reactions', method: 'GET', path: '/channels/{channel_id}/messages/{message_id}/reactions', handler: 'get-reactions', summary: 'Reaction counts and your own reactions', success: { status: 200, description: '{"counts": {"👍": 3}, "mine": ["👍"]}' } },
  { ...standard, stores: scyllaPostgresRedis, tag: 'pins', method: 'PUT', path: '/channels/{channel_id}/pins/{message_id}', handler: 'pin-message', summary: 'Pin a message (idempotent)', success: { status: 204, description: 'Pinned' } },
  { ...standard, stores: scyllaPostgresRedis, tag: 'pins', method: 'DELETE', path: '/channels/{channel_id}/pins/{message_id}', handler: 'unpin-message', summary: 'Unpin a message (idempotent)', success: { status: 204, description: 'Unpinned' } },
  { ...standard, stores: scyllaAndPostgres, tag: 'pins', method: 'GET', path: '/channels/{channel_id}/pins', handler: 'list-pins', summary: 'Pinned messages, most recently pinned first', success: { status: 200, description: '{"messages": [...]}' } },
  { ...standard, stores: scyllaPostgresRedis, tag: 'read-positions', method: 'PUT', path: '/channels/{channel_id}/read-position', handler: 'set-read-position', summary: 'Move your read position (never backwards)', body: schemas.readPositionBody, success: { status: 200, description: '{"message_id": "..."}: the stored position' } },
  { ...standard, stores: scyllaAndPostgres, tag: 'read-positions', method: 'GET', path: '/channels/{channel_id}/read-position', handler: 'get-read-position', summary: 'Your read position and unread count (capped at 1000)', success: { status: 200, description: '{"message_id", "unread_count", "unread_capped"}' } },
  { ...standard, stores: scyllaAndPostgres, tag: 'search', method: 'GET', path: '/channels/{channel_id}/search', handler: 'search-messages', summary: 'Full-text search in the channel, best match first', query: schemas.searchQuery, success: { status: 200, description: '{"messages": [...], "next_cursor": "..." | null}' } },
  { ...standard, stores: ['scylla', 'postgres', 'redis'], tag: 'typing', method: 'POST', path: '/channels/{channel_id}/typing', handler: 'start-typing', summary: 'Show the caller as typing for 8 s', success: { status: 204, description: 'Typing' } },
  { ...standard, stores: ['scylla', 'postgres', 'redis'], tag: 'typing', method: 'GET', path: '/channels/{channel_id}/typing', handler: 'get-typing', summary: 'Who is typing', success: { status: 200, description: '{"user_ids": [...]}' } },
  { ...standard, stores: ['redis'], tag: 'presence', method: 'PUT', path: '/presence', handler: 'set-presence', summary: 'Set your presence for 60 s', body: schemas.presenceBody, success: { status: 204, description: 'Set' } },
  { ...standard, stores: ['redis'], tag: 'presence', method: 'GET', path: '/presence', handler: 'get-presence', summary: 'Presence of up to 100 users', query: schemas.presenceQuery, success: { status: 200, description: '{"presence": {"<uuid>": "online"}}' } },
  { tag: 'telegram', method: 'POST', path: '/telegram/webhook', handler: 'telegram-webhook', stores: scyllaAndPostgres, summary: 'Telegram Bot API webhook (X-Telegram-Bot-Api-Secret-Token)', auth: false, memoryMb: 256, timeoutSeconds: 10, body: schemas.telegramUpdateBody, success: { status: 200, description: 'Acknowledged (stored, duplicate, edited or skipped)' } },
  { ...standard, stores: scyllaAndPostgres, tag: 'telegram', method: 'GET', path: '/telegram/chats/{telegram_chat_id}/messages/{telegram_message_id}', handler: 'get-telegram-message', summary: 'A bridged message by its Telegram ids', success: { status: 200, description: 'The message' } },
  { tag: 'health', method: 'GET', path: '/health/live', handler: 'health-live', stores: [], summary: 'Liveness probe', auth: false, memoryMb: 128, timeoutSeconds: 3, success: { status: 200, description: '{"status": "ok"}' } },
  { tag: 'health', method: 'GET', path: '/health/ready', handler: 'health-ready', stores: ['scylla', 'postgres', 'redis'], summary: 'Readiness probe: every store answers', auth: false, memoryMb: 256, timeoutSeconds: 5, success: { status: 200, description: '{"status": "ok", "checks": {...}}; 503 names what is down' } },
  { tag: 'docs', method: 'GET', path: '/openapi.json', handler: 'get-openapi', stores: [], summary: 'This API as an OpenAPI 3.1 document', auth: false, memoryMb: 128, timeoutSeconds: 3, success: { status: 200, description: 'OpenAPI 3.1 JSON' } },
  { tag: 'docs', method: 'GET', path: '/docs', handler: 'get-docs', stores: [], summary: 'This API rendered for a browser', auth: false, memoryMb: 128, timeoutSeconds: 3, success: { status: 200, description: 'HTML' } },
];

/** Lambdas outside the HTTP API: the migration custom resource and the scheduled reconciler. */
export interface BackgroundFunction {
  handler: string;
  stores: StoreName[];
  memoryMb: number;
  timeoutSeconds: number;
}

export const migrateFunction: BackgroundFunction = { handler: 'migrate', stores: ['scylla', 'postgres'], memoryMb: 512, timeoutSeconds: 600 };

/** Runs every few minutes, one at a time; stops before its timeout and resumes on the next run. */
export const reconcileFunction: BackgroundFunction & { scheduleMinutes: number } = {
  handler: 'reconcile',
  stores: ['scylla', 'postgres'],
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
