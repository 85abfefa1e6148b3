/**
 * Request shapes of the HTTP API, validated with zod. The same schemas feed the OpenAPI document, so the
 * documentation cannot drift from what handlers accept.
 */
import * as z from 'zod';
import { parseSnowflake } from '../ids/snowflake.js';
import { codePointLength, MAX_CONTENT_CODE_POINTS } from '../messages/model.js';

export const uuid = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'must be a lower-case canonical UUID');

export const snowflakeString = z
  .string()
  .refine((value) => parseSnowflake(value) !== undefined, 'must be a decimal message id (a positive 64-bit integer)')
  .transform((value) => parseSnowflake(value)!)
  .meta({ type: 'string', pattern: '^[1-9][0-9]{0,18}$', description: 'A 64-bit Snowflake id as a decimal string' });

export const content = z
  .string()
  .refine((value) => codePointLength(value) >= 1 && codePointLength(value) <= MAX_CONTENT_CODE_POINTS, {
    message: `must be 1 to ${MAX_CONTENT_CODE_POINTS} characters`,
  })
  .meta({ minLength: 1, maxLength: MAX_CONTENT_CODE_POINTS, description: 'Counted in Unicode code points' });

export const telegramChatId = z
  .number()
  .int()
  .refine((value) => Number.isSafeInteger(value) && value !== 0, 'must be a non-zero integer Telegram chat id');

export const createChannelBody = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  telegram_chat_id: telegramChatId.optional(),
});

export const createMessageBody = z.strictObject({
  content,
  reply_to_id: snowflakeString.optional(),
  nonce: z.string().min(1).max(64, 'must be at most 64 characters').optional(),
  author_id: uuid.optional(),
});

export const editMessageBody = z.strictObject({ content });

const limit = (max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,3}$/, `must be an integer from 1 to ${max}`)
    .transform(Number)
    .refine((value) => value >= 1 && value <= max, `must be an integer from 1 to ${max}`)
    .optional()
    .transform((value) => value ?? fallback);

export const listMessagesQuery = z
  .strictObject({
    limit: limit(100, 50),
    before: snowflakeString.optional(),
    after: snowflakeString.optional(),
    around: snowflakeString.optional(),
  })
  .refine(
    (query) => [query.before, query.after, query.around].filter((value) => value !== undefined).length <= 1,
    'use at most one of before, after and around',
  );

export const channelPath = z.object({ channel_id: uuid });
export const memberPath = z.object({ channel_id: uuid, user_id: uuid });
export const messagePath = z.object({ channel_id: uuid, message_id: snowflakeString });

export const reactionPath = z.object({ channel_id: uuid, message_id: snowflakeString, emoji: z.string().min(1).max(64) });
export const pinPath = messagePath;

export const readPositionBody = z.strictObject({ message_id: snowflakeString });

export const searchQuery = z.strictObject({
  q: z
    .string()
    .refine((value) => codePointLength(value.trim()) >= 1 && codePointLength(value) <= 256, 'must be 1 to 256 characters'),
  limit: limit(50, 25),
  cursor: z.string().max(200).optional(),
});

export const presenceBody = z.strictObject({ status: z.enum(['online', 'away', 'offline']) });

export const presenceQuery = z.strictObject({
  user_ids: z
    .string()
    .transform((value) => value.split(','))
    .pipe(z.array(uuid).min(1, 'name at least one user id').max(100, 'at most 100 user ids')),
});

export const telegramMessagePath = z.object({
  telegram_chat_id: z.string().regex(/^-?[1-9]\d{0,15}$/, 'must be a Telegram chat id').transform(Number),
  telegram_message_id: z.string().regex(/^[1-9]\d{0,15}$/, 'must be a Telegram message id').transform(Number),
});

const telegramChat = z.looseObject({ id: z.number().int(), type: z.string() });
const telegramMessage = z.looseObject({
  message_id: z.number().int().nonnegative(),
  date: z.number().int().positive(),
  chat: telegramChat,
  text: z.string().max(65_536).optional(),
  caption: z.string().max(65_536).optional(),
  edit_date: z.number().int().positive().optional(),
  message_thread_id: z.number().int().optional(),
  from: z.looseObject({ id: z.number().int() }).optional(),
  sender_chat: telegramChat.optional(),
  reply_to_message: z.looseObject({ message_id: z.number().int(), chat: telegramChat }).optional(),
});

/** A Bot API Update: the fields ingestion relies on are checked; everything else passes through. */
export const telegramUpdateBody = z.looseObject({
  update_id: z.number().int().nonnegative(),
  message: telegramMessage.optional(),
  edited_message: telegramMessage.optional(),
  channel_post: telegramMessage.optional(),
  edited_channel_post: telegramMessage.optional(),
});
