/**
 * Response shapes of the HTTP API: exactly the bodies the handlers send. The route table names each route's
 * success body (`response`); the OpenAPI document is generated from them and the integration tests check every
 * response they receive against that document, so a documented shape cannot drift from a sent one.
 *
 * Every object is strict (no undeclared property) and lists every property as required; a property that may be
 * empty is `T | null`, never absent. The only optional properties are an attachment's `width` and `height`,
 * which the contract (API.md) marks optional.
 */
import * as z from 'zod/mini';
import { MAX_CONTENT_CODE_POINTS } from '../messages/model.js';

/** A lower-case canonical UUID (channel and user ids), as schemas.ts accepts it. */
export const uuid = z
  .string()
  .check(z.regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/), z.meta({ format: 'uuid' }));

/** A 64-bit Snowflake id as a decimal string. */
export const snowflakeId = z.string().check(z.regex(/^[1-9][0-9]{0,18}$/), z.meta({ description: 'A 64-bit Snowflake id as a decimal string' }));

/** ISO-8601 UTC with milliseconds, as `Date.prototype.toISOString` writes it. */
export const timestamp = z.string().check(z.regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), z.meta({ format: 'date-time' }));

const int = () => z.int();
const count = () => z.int().check(z.nonnegative());
const cursor = z.nullable(z.string().check(z.minLength(1)));

const telegramRef = z.strictObject({
  chat_id: int(),
  message_id: int(),
  thread_id: z.nullable(int()),
});

export const attachment = z.strictObject({
  id: z.string().check(z.minLength(1)),
  url: z.string().check(z.regex(/^(https:\/\/|tg:\/\/file\/)\S+$/), z.meta({ description: 'https URL, or tg://file/<file_id> for Telegram media' })),
  filename: z.string(),
  content_type: z.string(),
  size: count(),
  width: z.optional(count()),
  height: z.optional(count()),
});

export const message = z
  .strictObject({
    id: snowflakeId,
    channel_id: uuid,
    author_id: uuid,
    content: z.string().check(
      z.maxLength(MAX_CONTENT_CODE_POINTS),
      z.meta({ description: `1 to ${MAX_CONTENT_CODE_POINTS} Unicode code points; empty only for a Telegram media message with attachments` }),
    ),
    created_at: timestamp,
    edited_at: z.nullable(timestamp),
    reply_to_id: z.nullable(snowflakeId),
    source: z.enum(['app', 'telegram']),
    telegram: z.nullable(telegramRef),
    mentions: z.array(uuid).check(z.maxLength(50)),
    attachments: z.array(attachment).check(z.maxLength(10)),
    reply_count: count(),
  })
  .check(z.meta({ id: 'Message' }));

export const messageList = z.strictObject({ messages: z.array(message) });
export const messagePage = z.strictObject({ messages: z.array(message), next_cursor: cursor });

const channelFields = {
  id: uuid,
  name: z.string().check(z.minLength(1), z.maxLength(100)),
  telegram_chat_id: z.nullable(int()),
  created_at: timestamp,
  last_message_id: z.nullable(snowflakeId),
};

export const channel = z.strictObject(channelFields).check(z.meta({ id: 'Channel' }));

export const channelWithCounts = z
  .strictObject({
    ...channelFields,
    read_message_id: z.nullable(snowflakeId),
    unread_count: count(),
    unread_capped: z.boolean(),
    mention_count: count(),
  })
  .check(z.meta({ id: 'ChannelWithCounts' }));

export const channelPage = z.strictObject({ channels: z.array(channelWithCounts), next_cursor: cursor });

export const member = z.strictObject({ user_id: uuid, role: z.enum(['owner', 'member']), joined_at: timestamp });
export const memberPage = z.strictObject({ members: z.array(member), next_cursor: cursor });

export const reactions = z.strictObject({
  counts: z.record(z.string(), count()),
  mine: z.array(z.string()),
});

export const reactionUsers = z.strictObject({ user_ids: z.array(uuid), next_cursor: cursor });

export const readPosition = z.strictObject({ message_id: snowflakeId });

export const readPositionState = z.strictObject({
  message_id: z.nullable(snowflakeId),
  unread_count: count(),
  unread_capped: z.boolean(),
});

export const searchPage = z.strictObject({ messages: z.array(message), next_cursor: cursor });

export const typing = z.strictObject({ user_ids: z.array(uuid) });

export const presence = z.strictObject({ presence: z.record(uuid, z.enum(['online', 'away', 'offline'])) });

/** What the Telegram webhook answers; Telegram only looks at the 2xx. `messageId` is camelCase as sent today. */
export const webhookAck = z.union([
  z.strictObject({ ok: z.literal(true), status: z.enum(['stored', 'duplicate', 'edited']), message_id: snowflakeId }),
  z.strictObject({ ok: z.literal(true), status: z.literal('skipped'), reason: z.string() }),
]);

const changeFields = {
  cursor: z.string().check(z.minLength(1), z.meta({ description: 'This change\'s position: pass it as `after` to follow on from it' })),
  at: timestamp,
  channel_id: uuid,
};

/** One change of the changes feed: the type says which fields it carries (API.md, "Changes feed"). */
export const change = z
  .union([
    z.strictObject({ ...changeFields, type: z.enum(['message.created', 'message.updated']), message }),
    z.strictObject({ ...changeFields, type: z.enum(['message.deleted', 'pin.added', 'pin.removed']), message_id: snowflakeId }),
    z.strictObject({ ...changeFields, type: z.literal('read_position.updated'), message_id: snowflakeId, user_id: uuid.check(z.meta({ description: 'The reader: always the caller (no one else sees it)' })) }),
    z.strictObject({
      ...changeFields,
      type: z.enum(['reaction.added', 'reaction.removed']),
      message_id: snowflakeId,
      user_id: z.nullable(uuid).check(z.meta({ description: 'Who reacted; null when the service corrected a drifted count (then only `count` is news)' })),
      emoji: z.string(),
      count: count(),
    }),
    z.strictObject({ ...changeFields, type: z.literal('channel.updated'), channel }),
    z.strictObject({ ...changeFields, type: z.literal('channel.deleted') }),
    z.strictObject({ ...changeFields, type: z.enum(['member.added', 'member.removed']), user_id: uuid }),
  ])
  .check(z.meta({ id: 'Change' }));

export const changesPage = z.strictObject({
  changes: z.array(change),
  next_cursor: z.string().check(z.minLength(1)),
  has_more: z.boolean(),
});

export const healthLive = z.strictObject({ status: z.literal('ok') });

const checkOk = z.strictObject({ status: z.literal('ok'), latency_ms: z.number().check(z.nonnegative()) });
/* No error text: the probe is anonymous, and a store's error names hosts and roles (it is logged instead). */
const checkFailed = z.strictObject({ status: z.enum(['unavailable', 'disabled']) });
const checks = <T extends z.ZodMiniType>(check: T) => z.strictObject({ scylla: check, postgres: check, redis: check });

/** Readiness when every store answers (200). */
export const health = z.strictObject({ status: z.literal('ok'), checks: checks(checkOk) });

/** Readiness when a store does not answer (503): each check says whether its store answered. */
export const healthUnavailable = z.strictObject({
  status: z.literal('unavailable'),
  checks: checks(z.union([checkOk, checkFailed])),
});

export const template = z
  .strictObject({
    id: uuid,
    channel_id: uuid,
    name: z.string().check(z.minLength(1), z.maxLength(100)),
    content: z.string().check(z.minLength(1)),
    variables: z.array(z.string()),
    created_by: uuid,
    created_at: timestamp,
    updated_at: timestamp,
  })
  .check(z.meta({ id: 'Template' }));

export const templatePage = z.strictObject({ templates: z.array(template), next_cursor: cursor });

export const error = z
  .strictObject({
    error: z.strictObject({
      code: z.string().check(z.regex(/^[a-z][a-z0-9_]*$/), z.meta({ description: 'A stable snake_case code' })),
      message: z.string(),
    }),
  })
  .check(z.meta({ id: 'Error' }));

/** API Gateway's JWT authorizer answers a missing or bad token itself, before the Lambda runs. */
export const gatewayUnauthorized = z.strictObject({ message: z.literal('Unauthorized') }).check(z.meta({ id: 'GatewayUnauthorized' }));

/** GET /openapi.json: an OpenAPI 3.1 document (its full schema is the OpenAPI specification's own). */
export const openApiDocument = z.looseObject({
  openapi: z.string().check(z.regex(/^3\.1\.\d+$/)),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.looseObject({})),
});

/** What API Gateway answers when the function itself fails (crash, timeout) instead of answering. */
/** API Gateway's own body when a route's throttle (or the stage's) refuses a request, before any function runs. */
export const gatewayThrottled = z.strictObject({ message: z.literal('Too Many Requests') }).check(z.meta({ id: 'GatewayThrottled' }));

export const gatewayInternalError = z.strictObject({ message: z.literal('Internal Server Error') }).check(z.meta({ id: 'GatewayInternalError' }));
