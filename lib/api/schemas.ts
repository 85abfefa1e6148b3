/**
 * Request shapes of the HTTP API, validated with zod. The same schemas feed the OpenAPI document, so the
 * documentation cannot drift from what handlers accept. zod/mini keeps ~70 KB out of every Lambda bundle.
 */
import * as z from 'zod/mini';
import { parseSnowflake } from '../ids/snowflake.js';
import { codePointLength, MAX_CONTENT_CODE_POINTS } from '../messages/model.js';

export const uuid = z
  .string()
  .check(z.regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'must be a lower-case canonical UUID'));

export const snowflakeString = z
  .pipe(
    z.string().check(z.refine((value) => parseSnowflake(value) !== undefined, 'must be a decimal message id (a positive 64-bit integer)')),
    z.transform((value: string) => parseSnowflake(value)!),
  )
  .check(z.meta({ type: 'string', pattern: '^[1-9][0-9]{0,18}$', description: 'A 64-bit Snowflake id as a decimal string' }));

export const content = z
  .string()
  .check(
    z.refine((value) => codePointLength(value) >= 1 && codePointLength(value) <= MAX_CONTENT_CODE_POINTS, `must be 1 to ${MAX_CONTENT_CODE_POINTS} characters`),
    z.meta({ minLength: 1, maxLength: MAX_CONTENT_CODE_POINTS, description: 'Counted in Unicode code points' }),
  );

export const telegramChatId = z
  .number()
  .check(z.refine((value) => Number.isSafeInteger(value) && value !== 0, 'must be a non-zero integer Telegram chat id'));

export const createChannelBody = z.strictObject({
  name: z.string().check(z.trim(), z.minLength(1, 'must not be empty'), z.maxLength(100, 'must be at most 100 characters')),
  telegram_chat_id: z.optional(telegramChatId),
});

export const createMessageBody = z.strictObject({
  content,
  reply_to_id: z.optional(snowflakeString),
  nonce: z.optional(z.string().check(z.minLength(1), z.maxLength(64, 'must be at most 64 characters'))),
  author_id: z.optional(uuid),
});

export const editMessageBody = z.strictObject({ content });

const limit = (max: number, fallback: number) =>
  z.pipe(
    z.optional(
      z.pipe(
        z.string().check(z.regex(/^\d{1,3}$/, `must be an integer from 1 to ${max}`)),
        z.transform(Number),
      ).check(z.refine((value) => value >= 1 && value <= max, `must be an integer from 1 to ${max}`)),
    ),
    z.transform((value: number | undefined) => value ?? fallback),
  );

export const listMessagesQuery = z
  .strictObject({
    limit: limit(100, 50),
    before: z.optional(snowflakeString),
    after: z.optional(snowflakeString),
    around: z.optional(snowflakeString),
  })
  .check(
    z.refine(
      (query) => [query.before, query.after, query.around].filter((value) => value !== undefined).length <= 1,
      'use at most one of before, after and around',
    ),
  );

export const channelPath = z.object({ channel_id: uuid });
export const memberPath = z.object({ channel_id: uuid, user_id: uuid });
export const messagePath = z.object({ channel_id: uuid, message_id: snowflakeString });

export const reactionPath = z.object({
  channel_id: uuid,
  message_id: snowflakeString,
  emoji: z.string().check(z.minLength(1), z.maxLength(64)),
});
export const pinPath = messagePath;

export const readPositionBody = z.strictObject({ message_id: snowflakeString });

export const searchQuery = z.strictObject({
  q: z.string().check(z.refine((value) => codePointLength(value.trim()) >= 1 && codePointLength(value) <= 256, 'must be 1 to 256 characters')),
  limit: limit(50, 25),
  cursor: z.optional(z.string().check(z.maxLength(200))),
});

export const presenceBody = z.strictObject({ status: z.enum(['online', 'away', 'offline']) });

export const presenceQuery = z.strictObject({
  user_ids: z.pipe(
    z.pipe(z.string(), z.transform((value: string) => value.split(','))),
    z.array(uuid).check(z.minLength(1, 'name at least one user id'), z.maxLength(100, 'at most 100 user ids')),
  ),
});

export const telegramMessagePath = z.object({
  telegram_chat_id: z.pipe(z.string().check(z.regex(/^-?[1-9]\d{0,15}$/, 'must be a Telegram chat id')), z.transform(Number)),
  telegram_message_id: z.pipe(z.string().check(z.regex(/^[1-9]\d{0,15}$/, 'must be a Telegram message id')), z.transform(Number)),
});

const integer = () => z.number().check(z.refine(Number.isSafeInteger, 'must be an integer within ±2^53'));
const telegramChat = z.looseObject({ id: integer(), type: z.string() });
const telegramMessage = z.looseObject({
  message_id: integer().check(z.nonnegative()),
  date: integer().check(z.positive()),
  chat: telegramChat,
  text: z.optional(z.string().check(z.maxLength(65_536))),
  caption: z.optional(z.string().check(z.maxLength(65_536))),
  edit_date: z.optional(integer().check(z.positive())),
  message_thread_id: z.optional(integer()),
  from: z.optional(z.looseObject({ id: integer() })),
  sender_chat: z.optional(telegramChat),
  reply_to_message: z.optional(z.looseObject({ message_id: integer(), chat: telegramChat })),
});

/** A Bot API Update: the fields ingestion relies on are checked; everything else passes through. */
export const telegramUpdateBody = z.looseObject({
  update_id: integer().check(z.nonnegative()),
  message: z.optional(telegramMessage),
  edited_message: z.optional(telegramMessage),
  channel_post: z.optional(telegramMessage),
  edited_channel_post: z.optional(telegramMessage),
});

// v2: channels and members

// v2: messages

// v2: templates
