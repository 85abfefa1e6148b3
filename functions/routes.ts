/**
 * The one route table. CDK deploys one Lambda per entry behind the HTTP API; the local server serves the
 * same entries through the same handlers; the OpenAPI document is generated from it.
 */
import type * as z from 'zod';
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
  body?: z.ZodType;
  query?: z.ZodType;
  tag: string;
}

const standard = { auth: true, memoryMb: 256, timeoutSeconds: 10 } as const;
const scyllaAndPostgres: StoreName[] = ['scylla', 'postgres'];

export const routes: Route[] = [
  { ...standard, stores: scyllaAndPostgres, tag: 'channels', method: 'POST', path: '/channels', handler: 'create-channel', summary: 'Create a channel; the caller becomes its owner', body: schemas.createChannelBody, success: { status: 201, description: 'The channel' } },
  { ...standard, stores: scyllaAndPostgres, tag: 'channels', method: 'GET', path: '/channels/{channel_id}', handler: 'get-channel', summary: 'Get a channel', success: { status: 200, description: 'The channel' } },
  { ...standard, stores: ['postgres'], tag: 'channels', method: 'PUT', path: '/channels/{channel_id}/members/{user_id}', handler: 'add-member', summary: 'Add a member (owner or service)', success: { status: 204, description: 'Added (idempotent)' } },
  { ...standard, stores: ['postgres'], tag: 'channels', method: 'DELETE', path: '/channels/{channel_id}/members/{user_id}', handler: 'remove-member', summary: 'Remove a member (owner, service, or the member themself)', success: { status: 204, description: 'Removed (idempotent)' } },
  { ...standard, stores: scyllaAndPostgres, tag: 'messages', method: 'POST', path: '/channels/{channel_id}/messages', handler: 'create-message', summary: 'Create a message; a repeated nonce returns the first message with 200', body: schemas.createMessageBody, success: { status: 201, description: 'The new message (200 with the first message for a repeated nonce)' } },
  { ...standard, stores: scyllaAndPostgres, tag: 'messages', method: 'GET', path: '/channels/{channel_id}/messages', handler: 'list-messages', summary: 'A page of messages, newest first', query: schemas.listMessagesQuery, success: { status: 200, description: '{"messages": [...]}' } },
  { ...standard, stores: scyllaAndPostgres, tag: 'messages', method: 'GET', path: '/channels/{channel_id}/messages/{message_id}', handler: 'get-message', summary: 'Get one message', success: { status: 200, description: 'The message' } },
  { ...standard, stores: scyllaAndPostgres, tag: 'messages', method: 'PATCH', path: '/channels/{channel_id}/messages/{message_id}', handler: 'edit-message', summary: 'Edit a message (author only)', body: schemas.editMessageBody, success: { status: 200, description: 'The message with edited_at set' } },
  { ...standard, stores: scyllaAndPostgres, tag: 'messages', method: 'DELETE', path: '/channels/{channel_id}/messages/{message_id}', handler: 'delete-message', summary: 'Delete a message (author, owner or service)', success: { status: 204, description: 'Deleted' } },
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
