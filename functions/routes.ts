/**
 * The one route table: everything a route is, said once. CDK deploys one Lambda per entry behind the HTTP
 * API (memory, timeout, the secrets and network of its stores); the request pipeline reads the schemas,
 * the auth kind and whether the route is a rate-limited write; the local server serves the same entries
 * through the same handlers; the OpenAPI document is generated from it.
 */
import type * as z from 'zod/mini';
import * as responses from '#lib/api/responses.js';
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
  /** Stores the use case reaches. A write or a JWT read also reaches Redis for its rate limit: see `storesOf`. */
  stores: StoreName[];
  /** A write spends the caller's rate-limit quota, after its request is found valid. */
  write: boolean;
  /**
   * The write's rate limit runs beside the use case's preparation (access check, id, lookups) instead of before
   * it: the handler passes `admission` on, and the use case awaits it before its first state change. For the hot
   * write paths, where a Redis round trip alone ahead of everything else would set the latency floor.
   */
  admitsBeside?: true;
  auth: AuthKind;
  secrets: ExtraSecret[];
  memoryMb: number;
  timeoutSeconds: number;
  summary: string;
  /** Longer text for the OpenAPI operation: semantics beyond the summary, and choices API.md leaves open. */
  description?: string;
  tag: string;
  /** Success status and what it returns, for the OpenAPI document. */
  success: { status: number; description: string };
  params?: z.ZodMiniType;
  query?: z.ZodMiniType;
  body?: z.ZodMiniType;
  /** The success body's schema (lib/api/responses.ts): the OpenAPI document and the response check use it. */
  response?: z.ZodMiniType;
  /**
   * Statuses the route answers beyond those its traits imply (the OpenAPI document derives 400, 401, 403, 404,
   * 413, 415, 429 and 503 from auth, params, body, write and stores): a 409 its use case throws, a second
   * success status. `body` defaults to the error shape; an entry for a derived status replaces it.
   */
  alsoAnswers?: { status: number; description: string; body?: z.ZodMiniType }[];
  /**
   * API Gateway's per-route throttle (requests per second, steady and burst), for routes no per-user limit
   * covers: those without a JWT have no user to count. CDK turns it into the stage's route settings; routes
   * without one share the stage-wide default.
   */
  throttle?: { rateLimit: number; burstLimit: number };
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

/**
 * Per-route API Gateway throttles of the routes without a JWT (requests per second, steady / burst). No
 * per-user quota can cover them, and without their own throttle a flood of any of them would spend the
 * stage-wide limit that every user's requests share.
 */
const THROTTLE = {
  /**
   * Telegram delivers one bot's updates over at most `max_connections` (40 by default) at once, each answered
   * in tens of milliseconds: 100/s with bursts of 200 is above what a busy bot's groups send, while a flood
   * with a guessed secret (refused before the body is read, yet still an invocation) stays bounded. A
   * throttled delivery is a 429, which Telegram retries later: nothing is lost.
   */
  telegram: { rateLimit: 100, burstLimit: 200 },
  /** Load balancers and uptime monitors probe every few seconds; nothing needs more. */
  probe: { rateLimit: 10, burstLimit: 20 },
  /** Readiness touches every store: kept lower, so no one can turn it into load on the stores. */
  readiness: { rateLimit: 5, burstLimit: 10 },
  /** The documentation is read by people and fetched by client generators, a few times a minute. */
  docs: { rateLimit: 10, burstLimit: 20 },
} satisfies Record<string, Route['throttle']>;

export const routes = [
  write('create-channel', { tag: 'channels', method: 'POST', path: '/channels', stores: SP, description: 'Only a service principal (the bot operator) may name `telegram_chat_id`: from a user it is 400 `forbidden_field`, checked before anything else, so a user learns nothing about the chat. A Telegram chat links to at most one channel: a service naming a chat already linked elsewhere gets 409 conflict (as `POST /channels/{channel_id}/telegram-link` does).', summary: 'Create a channel; the caller becomes its owner', body: schemas.createChannelBody, response: responses.channel, alsoAnswers: [{ status: 409, description: 'A service principal named a Telegram chat already linked to another channel' }], success: { status: 201, description: 'The channel' } }),
  read('get-channel', { tag: 'channels', method: 'GET', path: '/channels/{channel_id}', stores: SP, summary: 'Get a channel', params: schemas.channelPath, response: responses.channel, success: { status: 200, description: 'The channel' } }),
  write('add-member', { tag: 'channels', method: 'PUT', path: '/channels/{channel_id}/members/{user_id}', stores: SP, summary: 'Add a member (owner or service)', params: schemas.memberPath, success: { status: 204, description: 'Added (idempotent)' } }),
  write('remove-member', { tag: 'channels', method: 'DELETE', path: '/channels/{channel_id}/members/{user_id}', stores: SP, description: 'API.md is silent on removing the owner; like Discord, where an owner cannot leave a server without handing it over, removing the owner is refused with 409 conflict.', summary: 'Remove a member (owner, service, or the member themself)', params: schemas.memberPath, alsoAnswers: [{ status: 409, description: 'The owner cannot be removed from the channel' }], success: { status: 204, description: 'Removed (idempotent)' } }),
  write('create-message', { tag: 'messages', method: 'POST', path: '/channels/{channel_id}/messages', stores: SP, admitsBeside: true, description: 'Idempotency as Discord\'s message nonce (there with enforce_nonce): a repeated `nonce` from the same author in the same channel within 10 minutes answers 200 with the first message instead of 201 with a new one. Templates (API.md names no errors): `template_id` naming no template of this channel is 400 `unknown_template` (like an unknown `reply_to_id`, 400 `unknown_reply_target`; a 404 would read as a missing channel); `variables` (default `{}`) must name exactly the template\'s variables: 400 `missing_variable` names those left out (checked first), 400 `unknown_variable` those the template does not use (almost always a typo); 400 `invalid_rendered_content` when the result is not 1 to 4096 code points. Duplicate `mentions` are kept once, in first-seen order; a self-mention is stored but counts for no one. Attachment `url`s are stored and returned normalised (WHATWG URL serialisation).', summary: 'Create a message; a repeated nonce returns the first message with 200', params: schemas.channelPath, body: schemas.createMessageBody, response: responses.message, alsoAnswers: [{ status: 200, description: 'A repeated nonce from the same author in the same channel within 10 minutes: the first message, unchanged; nothing is written', body: responses.message }], success: { status: 201, description: 'The new message (200 with the first message for a repeated nonce)' } }),
  read('list-messages', { tag: 'messages', method: 'GET', path: '/channels/{channel_id}/messages', stores: SP, description: 'Newest first. `before`: older than the id; `after`: newer than the id (the `limit` messages closest to it); `around`: up to `limit` messages centred on the id, the id included if it exists; none: the newest. At most one of `before`, `after` and `around` (400 otherwise).', summary: 'A page of messages, newest first', params: schemas.channelPath, query: schemas.listMessagesQuery, response: responses.messageList, success: { status: 200, description: '{"messages": [...]}' } }),
  read('get-message', { tag: 'messages', method: 'GET', path: '/channels/{channel_id}/messages/{message_id}', stores: SP, summary: 'Get one message', params: schemas.messagePath, response: responses.message, success: { status: 200, description: 'The message' } }),
  write('edit-message', { tag: 'messages', method: 'PATCH', path: '/channels/{channel_id}/messages/{message_id}', stores: SP, description: 'Stream-like partial update: a field given replaces it, a field left out is kept; `mentions: []` removes every mention. `PATCH {}` is 400 invalid_request (nothing to edit), not a no-op. Every edit sets `edited_at`, even one that changes nothing.', summary: 'Edit a message (author only)', params: schemas.messagePath, body: schemas.editMessageBody, response: responses.message, success: { status: 200, description: 'The message with edited_at set' } }),
  write('delete-message', { tag: 'messages', method: 'DELETE', path: '/channels/{channel_id}/messages/{message_id}', stores: SP, summary: 'Delete a message (author, owner or service)', params: schemas.messagePath, success: { status: 204, description: 'Deleted' } }),
  write('put-reaction', { tag: 'reactions', method: 'PUT', path: '/channels/{channel_id}/messages/{message_id}/reactions/{emoji}', stores: SP, summary: 'React (idempotent per user and emoji)', params: schemas.reactionPath, success: { status: 204, description: 'Reacted' } }),
  write('delete-reaction', { tag: 'reactions', method: 'DELETE', path: '/channels/{channel_id}/messages/{message_id}/reactions/{emoji}', stores: SP, summary: 'Remove your reaction (idempotent)', params: schemas.reactionPath, success: { status: 204, description: 'Removed' } }),
  read('get-reactions', { tag: 'reactions', method: 'GET', path: '/channels/{channel_id}/messages/{message_id}/reactions', stores: SP, summary: 'Reaction counts and your own reactions', params: schemas.messagePath, response: responses.reactions, success: { status: 200, description: '{"counts": {"👍": 3}, "mine": ["👍"]}' } }),
  write('pin-message', { tag: 'pins', method: 'PUT', path: '/channels/{channel_id}/pins/{message_id}', stores: SP, description: 'API.md sets no limit; like Discord, which caps the pins of a channel and refuses one more, a channel holds at most 250 pins and a further pin is 409 conflict. Pinning a pinned message is a no-op.', summary: 'Pin a message (idempotent)', params: schemas.pinPath, alsoAnswers: [{ status: 409, description: 'The channel already holds the most pins it may; unpin one first' }], success: { status: 204, description: 'Pinned' } }),
  write('unpin-message', { tag: 'pins', method: 'DELETE', path: '/channels/{channel_id}/pins/{message_id}', stores: SP, summary: 'Unpin a message (idempotent)', params: schemas.pinPath, success: { status: 204, description: 'Unpinned' } }),
  read('list-pins', { tag: 'pins', method: 'GET', path: '/channels/{channel_id}/pins', stores: SP, summary: 'Pinned messages, most recently pinned first', params: schemas.channelPath, response: responses.messageList, success: { status: 200, description: '{"messages": [...]}' } }),
  write('set-read-position', { tag: 'read-positions', method: 'PUT', path: '/channels/{channel_id}/read-position', stores: SP, summary: 'Move your read position (never backwards)', params: schemas.channelPath, body: schemas.readPositionBody, response: responses.readPosition, success: { status: 200, description: '{"message_id": "..."}: the stored position' } }),
  read('get-read-position', { tag: 'read-positions', method: 'GET', path: '/channels/{channel_id}/read-position', stores: SP, summary: 'Your read position and unread count (capped at 1000)', params: schemas.channelPath, response: responses.readPositionState, success: { status: 200, description: '{"message_id", "unread_count", "unread_capped"}' } }),
  read('search-messages', { tag: 'search', method: 'GET', path: '/channels/{channel_id}/search', stores: SP, description: '`cursor` is opaque: pass back `next_cursor`; a cursor this API did not issue is 400 `invalid_cursor`.', summary: 'Full-text search in the channel, best match first', params: schemas.channelPath, query: schemas.searchQuery, response: responses.searchPage, success: { status: 200, description: '{"messages": [...], "next_cursor": "..." | null}' } }),
  write('start-typing', { tag: 'typing', method: 'POST', path: '/channels/{channel_id}/typing', stores: ['scylla', 'postgres', 'redis'], summary: 'Show the caller as typing for 8 s', params: schemas.channelPath, success: { status: 204, description: 'Typing' } }),
  read('get-typing', { tag: 'typing', method: 'GET', path: '/channels/{channel_id}/typing', stores: ['scylla', 'postgres', 'redis'], summary: 'Who is typing', params: schemas.channelPath, response: responses.typing, success: { status: 200, description: '{"user_ids": [...]}' } }),
  write('set-presence', { tag: 'presence', method: 'PUT', path: '/presence', stores: ['redis'], summary: 'Set your presence for 60 s', body: schemas.presenceBody, success: { status: 204, description: 'Set' } }),
  read('get-presence', { tag: 'presence', method: 'GET', path: '/presence', stores: ['redis'], description: 'Users with no live presence are reported `offline`, so every requested id is a key of `presence`.', summary: 'Presence of up to 100 users', query: schemas.presenceQuery, response: responses.presence, success: { status: 200, description: '{"presence": {"<uuid>": "online"}}' } }),
  read('telegram-webhook', { throttle: THROTTLE.telegram, tag: 'telegram', method: 'POST', path: '/telegram/webhook', stores: SP, auth: 'telegram-secret', secrets: ['telegramWebhookSecret'], description: 'Telegram only looks at the status. API.md names no body; like the Bot API\'s own answers the body carries `ok: true`, and says what happened: `stored`, `duplicate` or `edited` with the message\'s id (`message_id`, a decimal string), or `skipped` with a reason.', summary: 'Telegram Bot API webhook (X-Telegram-Bot-Api-Secret-Token)', body: schemas.telegramUpdateBody, response: responses.webhookAck, success: { status: 200, description: 'Acknowledged (stored, duplicate, edited or skipped)' } }),
  read('get-telegram-message', { tag: 'telegram', method: 'GET', path: '/telegram/chats/{telegram_chat_id}/messages/{telegram_message_id}', stores: SP, summary: 'A bridged message by its Telegram ids', params: schemas.telegramMessagePath, response: responses.message, success: { status: 200, description: 'The message' } }),
  // v2: channels and members
  read('list-channels', { tag: 'channels', method: 'GET', path: '/channels', stores: SP, description: 'Most recent activity (channel creation or latest message) first; channels with the same activity time are ordered by channel id, descending, so paging never skips or repeats one. `limit` defaults to 50 (1 to 100); `cursor` is the opaque `next_cursor` of the previous page. Unread and mention counts stop at 1000 (`unread_capped` says so for the unread count).', summary: "The caller's channels (a service names the user), most recent activity first, with read position, unread and mention counts (capped at 1000)", query: schemas.listChannelsQuery, response: responses.channelPage, alsoAnswers: [{ status: 403, description: 'user_id names another user and the caller is not a service principal' }], success: { status: 200, description: '{"channels": [...], "next_cursor": "..." | null}' } }),
  write('update-channel', { tag: 'channels', method: 'PATCH', path: '/channels/{channel_id}', stores: SP, description: 'A partial update: `name` given renames (trimmed; 1 to 100 characters; no U+0000). `PATCH {}` changes nothing and answers 200 with the channel as it is (the owner check still applies).', summary: 'Rename a channel (owner or service)', params: schemas.channelPath, body: schemas.updateChannelBody, response: responses.channel, success: { status: 200, description: 'The channel' } }),
  write('delete-channel', { tag: 'channels', method: 'DELETE', path: '/channels/{channel_id}', stores: SP, summary: 'Delete a channel (owner or service): every route of it answers 404 at once; its data is purged in the background', params: schemas.channelPath, success: { status: 204, description: 'Deleted' } }),
  read('list-members', { tag: 'channels', method: 'GET', path: '/channels/{channel_id}/members', stores: SP, description: 'API.md leaves the order open: ascending user id (the UUID\'s canonical text), a stable order for paging, not the order of joining. `limit` defaults to 100 (1 to 200); `cursor` is the opaque `next_cursor` of the previous page.', summary: 'The members of a channel in user id order (members and service)', params: schemas.channelPath, query: schemas.listMembersQuery, response: responses.memberPage, success: { status: 200, description: '{"members": [...], "next_cursor": "..." | null}' } }),
  write('link-telegram-chat', { tag: 'telegram', method: 'POST', path: '/channels/{channel_id}/telegram-link', stores: SP, summary: 'Link a Telegram chat to the channel (service principals only)', params: schemas.channelPath, body: schemas.telegramLinkBody, response: responses.channel, alsoAnswers: [{ status: 409, description: 'The Telegram chat is already linked to another channel' }], success: { status: 200, description: 'The channel' } }),
  // v2: messages
  read('list-replies', { tag: 'messages', method: 'GET', path: '/channels/{channel_id}/messages/{message_id}/replies', stores: SP, description: 'API.md leaves paging open: like Discord\'s thread messages and Stream\'s replies, `limit` defaults to 50 (1 to 100), oldest reply first; `cursor` is the `next_cursor` of the previous page (the id of the last reply it returned). Deleted replies are left out. The parent must be a live message (404 otherwise).', summary: 'The thread of a message: its replies, oldest first; next_cursor is null on the last page', params: schemas.messagePath, query: schemas.repliesQuery, response: responses.messagePage, success: { status: 200, description: '{"messages": [...], "next_cursor": "..." | null}' } }),
  read('get-reaction-users', { tag: 'reactions', method: 'GET', path: '/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/users', stores: SP, description: 'Like Discord\'s GET reactions/{emoji} (limit 25 by default, paged with `after` a user id): `limit` defaults to 25 (1 to 100); users in ascending user-id order (for the random, version-4 ids users have, the order of their canonical text), not in the order they reacted; `cursor` is the `next_cursor` of the previous page (the last user id it returned).', summary: 'Who reacted with an emoji, in user-id order; next_cursor is null on the last page', params: schemas.reactionPath, query: schemas.reactionUsersQuery, response: responses.reactionUsers, success: { status: 200, description: '{"user_ids": [...], "next_cursor": "..." | null}' } }),
  write('bulk-delete-messages', { tag: 'messages', method: 'POST', path: '/channels/{channel_id}/messages/bulk-delete', stores: SP, description: 'Like Discord\'s bulk delete, 2 to 100 ids, counted as given; unlike Discord, a repeated id is not an error: each id is deleted once. Ids of other channels, unknown or already deleted are ignored (204 all the same). Each deletion does what a single delete does (search row, pin, mentions, thread count).', summary: 'Delete 2 to 100 messages (owner or service); ids of other channels or already deleted are ignored', params: schemas.channelPath, body: schemas.bulkDeleteBody, success: { status: 204, description: 'Deleted' } }),
  // v2: changes feed
  read('list-changes', { tag: 'changes', method: 'GET', path: '/channels/{channel_id}/changes', stores: SP, description: 'Sync after being offline (API.md, "Changes feed"). Oldest first. Without `after`: no changes and `next_cursor` at the head (read the messages, then follow the feed from there). Every acknowledged change appears exactly once, and following `next_cursor` never skips one, even with writers whose clocks differ by up to 1 s: the feed holds back the newest 2 s (clock skew 1 s + write deadline 1 s), so a change appears there about 2 s after it is made. A short page is not the end of time: keep polling from `next_cursor`; `has_more` says another page is ready now. A client applying changes should treat them as state to converge on (a message\'s full view; reaction counts; a read position that only moves forward), not as commands. Changes are kept 30 days: an `after` older than that is 410 `cursor_expired` (reload, then follow from the head); a cursor this feed did not issue is 400 `invalid_cursor`. `read_position.updated` appears only in the feed of the user who moved it. Repeated idempotent writes (a reaction, a pin, a nonce, the same name, the same read position) record nothing.', summary: 'The changes of a channel after a cursor, oldest first (edits, deletes, reactions, pins, members, your read position)', params: schemas.channelPath, query: schemas.listChangesQuery, response: responses.changesPage, alsoAnswers: [{ status: 410, description: '`cursor_expired`: the cursor is older than the 30 days changes are kept' }], success: { status: 200, description: '{"changes": [...], "next_cursor": "...", "has_more": false}' } }),
  // v2: templates
  write('create-template', { tag: 'templates', method: 'POST', path: '/channels/{channel_id}/templates', stores: SP, summary: 'Create a message template (any member); {{ name }} placeholders, see the content field; 400 invalid_template for a broken placeholder', params: schemas.channelPath, body: schemas.createTemplateBody, response: responses.template, alsoAnswers: [{ status: 409, description: 'The channel already has a template of that name (names are unique per channel, exact and case-sensitive)' }], success: { status: 201, description: 'The template, with its variables in order of first appearance' } }),
  read('list-templates', { tag: 'templates', method: 'GET', path: '/channels/{channel_id}/templates', stores: SP, summary: 'A page of the channel\'s templates by name (code-point order)', params: schemas.channelPath, query: schemas.listTemplatesQuery, response: responses.templatePage, success: { status: 200, description: '{"templates": [...], "next_cursor": "..." | null}' } }),
  write('update-template', { tag: 'templates', method: 'PATCH', path: '/channels/{channel_id}/templates/{template_id}', stores: SP, description: 'A partial update: a field given replaces it, a field left out is kept. `PATCH {}` is 400 invalid_request (give name, content or both). Messages already made from the template keep their content.', summary: 'Change a template\'s name and/or content (its creator, the owner or a service)', params: schemas.templatePath, body: schemas.updateTemplateBody, response: responses.template, alsoAnswers: [{ status: 409, description: 'The channel already has a template of that name' }], success: { status: 200, description: 'The template' } }),
  write('delete-template', { tag: 'templates', method: 'DELETE', path: '/channels/{channel_id}/templates/{template_id}', stores: SP, summary: 'Delete a template (its creator, the owner or a service)', params: schemas.templatePath, success: { status: 204, description: 'Deleted' } }),
  open('health-live', { throttle: THROTTLE.probe, tag: 'health', method: 'GET', path: '/health/live', stores: [], summary: 'Liveness probe', response: responses.healthLive, success: { status: 200, description: '{"status": "ok"}' } }),
  open('health-ready', { throttle: THROTTLE.readiness, tag: 'health', method: 'GET', path: '/health/ready', stores: ['scylla', 'postgres', 'redis'], memoryMb: 256, timeoutSeconds: 5, summary: 'Readiness probe: every store answers', response: responses.health, alsoAnswers: [{ status: 503, description: 'A store does not answer: checks names which', body: responses.healthUnavailable }], success: { status: 200, description: '{"status": "ok", "checks": {...}}; 503 names what is down' } }),
  open('get-openapi', { throttle: THROTTLE.docs, tag: 'docs', method: 'GET', path: '/openapi.json', stores: [], summary: 'This API as an OpenAPI 3.1 document', response: responses.openApiDocument, success: { status: 200, description: 'OpenAPI 3.1 JSON' } }),
  open('get-docs', { throttle: THROTTLE.docs, tag: 'docs', method: 'GET', path: '/docs', stores: [], summary: 'This API rendered for a browser', success: { status: 200, description: 'HTML' } }),
] satisfies Route[];

export type RouteName = (typeof routes)[number]['handler'];
/** The route served by `functions/<H>.ts`, with its schemas' exact types. */
export type RouteOf<H extends RouteName> = Extract<(typeof routes)[number], { handler: H }>;

/**
 * Which per-user quota a route spends (lib/rate-limit.ts): every write its write quota, before the use case;
 * every read a user makes with a JWT its read quota, counted beside the use case. Unauthenticated routes have
 * no user to count: they are throttled per route at API Gateway instead (`throttle`).
 */
export function rateLimitOf(route: Pick<Route, 'auth' | 'write'>): 'writes' | 'reads' | undefined {
  if (route.write) return 'writes';
  return route.auth === 'jwt' ? 'reads' : undefined;
}

/**
 * Every store a route's Lambda reaches: its use case's, plus Redis for its rate limit (writes and JWT reads).
 * The one source of this: CDK grants network and secrets from it, the pipeline checks the settings with it.
 */
export function storesOf(route: Pick<Route, 'stores' | 'write' | 'auth'>): StoreName[] {
  return rateLimitOf(route) && !route.stores.includes('redis') ? [...route.stores, 'redis'] : route.stores;
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

/**
 * Purges deleted channels from the SQS purge queue, which the `enqueuedBy` routes (and the reconciler's
 * sweep) send to. A delete's message is delivered after `delaySeconds`: beyond the longest request and the
 * 30 s Telegram link cache, so writes in flight land before the purge. A purge stops before the timeout and
 * sends itself a continuation (so the purge function sends to its own queue) to resume from its checkpoint.
 */
export const purgeChannelFunction: BackgroundFunction & { enqueuedBy: RouteName[]; batchSize: number; maxReceiveCount: number; delaySeconds: number } = {
  handler: 'purge-channel',
  stores: ['scylla', 'postgres'],
  secrets: [],
  memoryMb: 512,
  timeoutSeconds: 300,
  enqueuedBy: ['delete-channel'],
  batchSize: 1,
  maxReceiveCount: 5,
  delaySeconds: 120,
};

/**
 * Points the Telegram bot at the deployed webhook on stack create and update (`setWebhook` with the API's URL,
 * the secret token and `allowed_updates`; idempotent) and removes it on stack delete (`deleteWebhook`): a
 * CloudFormation custom resource. It reaches no store: only the Bot API, with the bot token and webhook secret.
 */
export const registerTelegramWebhookFunction: BackgroundFunction = {
  handler: 'register-telegram-webhook',
  stores: [],
  secrets: ['telegramWebhookSecret'],
  memoryMb: 256,
  timeoutSeconds: 60,
};

/** Write routes that record no change of the changes feed (ephemeral state, templates, a channel's birth). */
const RECORDS_NO_CHANGE = new Set<string>(['start-typing', 'set-presence', 'create-channel', 'create-template', 'update-template', 'delete-template']);

/**
 * Every function that records changes of the changes feed, and so publishes them (EventBridge in AWS): the
 * write routes but those above, the Telegram webhook (ingestion) and the reconciler (its repairs, the outbox
 * relay). CDK gives these the bus; their ChangeLateWrite and ChangeLost metrics are alarmed.
 */
export const changeRecorders: string[] = [
  ...(routes as Route[]).filter((route) => route.write && !RECORDS_NO_CHANGE.has(route.handler)).map((route) => route.handler),
  'telegram-webhook',
  'reconcile',
];

/**
 * The WebSocket API (API.md, "Real-time push"): one authorizer on `$connect` (the JWT, as the HTTP API checks
 * it), one function for every route key (connect, disconnect, subscribe, unsubscribe, default), and the
 * fan-out that an EventBridge rule on the changes bus invokes. The registry of connections is Redis.
 */
export const webSocketRouteKeys = ['$connect', '$disconnect', 'subscribe', 'unsubscribe', '$default'] as const;
export const wsAuthorizerFunction: BackgroundFunction = { handler: 'ws-authorizer', stores: [], secrets: [], memoryMb: 256, timeoutSeconds: 5 };
export const wsRoutesFunction: BackgroundFunction = { handler: 'ws-routes', stores: ['scylla', 'postgres', 'redis'], secrets: [], memoryMb: 256, timeoutSeconds: 10 };
export const fanOutFunction: BackgroundFunction & { concurrency: number } = {
  handler: 'fan-out',
  stores: ['redis'],
  secrets: [],
  memoryMb: 512,
  timeoutSeconds: 30,
  /** Frames posted at once per change (the Management API answers in tens of milliseconds each). */
  concurrency: 32,
};

/**
 * The search indexer: an EventBridge rule on the changes bus invokes it with each message change (`changeTypes`,
 * one change per invocation); it applies the message's current state to the PostgreSQL search index and moves
 * the channel's last activity for a new message. At most once, like the fan-out: the reconciler's sweep of the
 * search outbox applies whatever it missed.
 */
export const indexMessagesFunction: BackgroundFunction & { changeTypes: string[] } = {
  handler: 'index-messages',
  stores: ['scylla', 'postgres'],
  secrets: [],
  memoryMb: 256,
  timeoutSeconds: 10,
  changeTypes: ['message.created', 'message.updated', 'message.deleted'],
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
