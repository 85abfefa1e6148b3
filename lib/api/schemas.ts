/**
 * Request shapes of the HTTP API, validated with zod. The same schemas feed the OpenAPI document, so the
 * documentation cannot drift from what handlers accept. zod/mini keeps ~70 KB out of every Lambda bundle.
 */
import * as z from 'zod/mini';
import { parseSnowflake } from '../ids/snowflake.js';
import { codePointLength, MAX_CONTENT_CODE_POINTS } from '../messages/model.js';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';

export const uuid = z.string().check(z.regex(new RegExp(`^${UUID}$`), 'must be a lower-case canonical UUID'));

export const snowflakeString = z
  .pipe(
    z.string().check(z.refine((value) => parseSnowflake(value) !== undefined, 'must be a decimal message id (a positive 64-bit integer)')),
    z.transform((value: string) => parseSnowflake(value)!),
  )
  .check(z.meta({ type: 'string', pattern: '^[1-9][0-9]{0,18}$', description: 'A 64-bit Snowflake id as a decimal string' }));

/** PostgreSQL text refuses U+0000, and a lone UTF-16 surrogate cannot be stored as UTF-8: both are a 400 here.
 * Every text that reaches PostgreSQL (message content, which the search index stores; channel and template
 * names and contents; the search query, a query parameter) is checked with it. */
const storable = z.refine<string>((value) => !value.includes('\u0000') && !/\p{Cs}/u.test(value), 'must not contain U+0000 or unpaired surrogates');

export const content = z
  .string()
  .check(
    z.refine((value) => codePointLength(value) >= 1 && codePointLength(value) <= MAX_CONTENT_CODE_POINTS, `must be 1 to ${MAX_CONTENT_CODE_POINTS} characters`),
    storable,
    z.meta({ minLength: 1, maxLength: MAX_CONTENT_CODE_POINTS, description: 'Counted in Unicode code points; no U+0000 or unpaired surrogates' }),
  );

export const telegramChatId = z
  .number()
  .check(
    z.refine((value) => Number.isSafeInteger(value) && value !== 0, 'must be a non-zero integer Telegram chat id'),
    z.meta({ type: 'integer', minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER, not: { const: 0 } }),
  );

const channelName = z
  .string()
  .check(
    z.trim(),
    z.minLength(1, 'must not be empty'),
    z.maxLength(100, 'must be at most 100 characters'),
    storable,
    z.meta({ description: 'Trimmed of surrounding white space, then 1 to 100 characters; no U+0000 or unpaired surrogates' }),
  );

export const createChannelBody = z.strictObject({
  name: channelName,
  telegram_chat_id: z.optional(telegramChatId),
});

// createMessageBody and editMessageBody: below `// v2: messages` (they use the v2 mention and attachment shapes).

const limit = (max: number, fallback: number) =>
  z.pipe(
    z.optional(
      z.pipe(
        z.string().check(z.regex(/^\d{1,3}$/, `must be an integer from 1 to ${max}`)),
        z.transform(Number),
      ).check(z.refine((value) => value >= 1 && value <= max, `must be an integer from 1 to ${max}`)),
    ),
    z.transform((value: number | undefined) => value ?? fallback),
  ).check(z.meta({ type: 'integer', minimum: 1, maximum: max, default: fallback, description: `1 to ${max}; ${fallback} when absent`, pattern: undefined }));

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
  q: z
    .string()
    .check(
      z.refine((value) => codePointLength(value.trim()) >= 1 && codePointLength(value) <= 256, 'must be 1 to 256 characters'),
      storable,
      z.meta({ minLength: 1, maxLength: 256, description: '1 to 256 characters (Unicode code points), not only white space; no U+0000 or unpaired surrogates' }),
    ),
  limit: limit(50, 25),
  cursor: z.optional(z.string().check(z.maxLength(200))),
});

export const presenceBody = z.strictObject({ status: z.enum(['online', 'away', 'offline']) });

export const presenceQuery = z.strictObject({
  user_ids: z.pipe(
    z.pipe(z.string(), z.transform((value: string) => value.split(','))),
    z.array(uuid).check(z.minLength(1, 'name at least one user id'), z.maxLength(100, 'at most 100 user ids')),
  ).check(
    z.meta({
      description: '1 to 100 comma-separated user ids',
      pattern: `^${UUID}(,${UUID}){0,99}$`,
    }),
  ),
});

/* 16 digits can exceed 2^53: such an id would be rounded to another one (Telegram ids are at most 52 bits). */
const safeIntegerText = (pattern: RegExp, what: string) =>
  z.pipe(z.string().check(z.regex(pattern, what), z.refine((value) => Number.isSafeInteger(Number(value)), what)), z.transform(Number));

export const telegramMessagePath = z.object({
  telegram_chat_id: safeIntegerText(/^-?[1-9]\d{0,15}$/, 'must be a Telegram chat id'),
  telegram_message_id: safeIntegerText(/^[1-9]\d{0,15}$/, 'must be a Telegram message id'),
});

const integer = () => z.number().check(z.refine(Number.isSafeInteger, 'must be an integer within ±2^53'));
const telegramChat = z.looseObject({ id: integer(), type: z.string() });
const telegramFile = z.looseObject({
  file_id: z.string().check(z.minLength(1), z.maxLength(512)),
  file_unique_id: z.optional(z.string().check(z.maxLength(512))),
  file_size: z.optional(integer().check(z.nonnegative())),
  file_name: z.optional(z.string().check(z.maxLength(1024))),
  mime_type: z.optional(z.string().check(z.maxLength(255))),
  width: z.optional(integer().check(z.nonnegative())),
  height: z.optional(integer().check(z.nonnegative())),
});
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
  // Media become attachments (tg://file/<file_id>): the fields they are built from are checked.
  photo: z.optional(z.array(telegramFile).check(z.maxLength(32))),
  document: z.optional(telegramFile),
  video: z.optional(telegramFile),
  voice: z.optional(telegramFile),
  sticker: z.optional(telegramFile),
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
const pageCursor = z.optional(z.string().check(z.minLength(1), z.maxLength(200)));

export const listChannelsQuery = z.strictObject({ limit: limit(100, 50), cursor: pageCursor, user_id: z.optional(uuid) });
export const updateChannelBody = z.strictObject({ name: z.optional(channelName) });
export const listMembersQuery = z.strictObject({ limit: limit(200, 100), cursor: pageCursor });
export const telegramLinkBody = z.strictObject({ telegram_chat_id: telegramChatId });

// v2: messages

const MAX_MENTIONS = 50;
const MAX_ATTACHMENTS = 10;

export const mentions = z
  .array(uuid)
  .check(
    z.maxLength(MAX_MENTIONS, `at most ${MAX_MENTIONS} mentions`),
    z.meta({ description: `Users the message mentions, at most ${MAX_MENTIONS}; each must be a member of the channel (400 mention_not_member)` }),
  );

const dimension = z.number().check(z.refine((value) => Number.isSafeInteger(value) && value > 0, 'must be a positive integer'), z.meta({ type: 'integer', minimum: 1 }));

function isHttpsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.hostname.length > 0;
  } catch {
    return false;
  }
}

/** Attachment metadata from a client: the bytes live elsewhere, at an https URL. */
export const attachmentInput = z.strictObject({
  id: z.string().check(z.minLength(1), z.maxLength(128), storable),
  // Stored (and answered) as the WHATWG URL serialisation, so what a response carries always matches the
  // response schema: `https://x/a b` is kept as `https://x/a%20b`, `HTTPS://X/` as `https://x/`.
  url: z
    .pipe(z.string().check(z.maxLength(2048), z.refine(isHttpsUrl, 'must be an https URL')), z.transform((value: string) => new URL(value).href))
    .check(z.meta({ type: 'string', format: 'uri', maxLength: 2048, pattern: '^https://', description: 'https only; stored and returned normalised (WHATWG URL serialisation: white space percent-encoded, scheme and host lower-cased)' })),
  filename: z.string().check(z.minLength(1), z.maxLength(255), storable),
  content_type: z.string().check(z.maxLength(255), z.regex(/^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/, 'must be a MIME type such as image/png'), storable),
  size: z.number().check(z.refine((value) => Number.isSafeInteger(value) && value >= 0, 'must be a non-negative integer'), z.meta({ type: 'integer', minimum: 0 })),
  width: z.optional(dimension),
  height: z.optional(dimension),
});

export const attachments = z.array(attachmentInput).check(z.maxLength(MAX_ATTACHMENTS, `at most ${MAX_ATTACHMENTS} attachments`));

export const createMessageBody = z
  .strictObject({
    content: z.optional(content),
    template_id: z.optional(uuid),
    variables: z.optional(z.record(z.string().check(z.maxLength(64), storable), z.string().check(z.maxLength(MAX_CONTENT_CODE_POINTS), storable))),
    reply_to_id: z.optional(snowflakeString),
    nonce: z.optional(z.string().check(z.minLength(1), z.maxLength(64, 'must be at most 64 characters'), storable)),
    author_id: z.optional(uuid),
    mentions: z.optional(mentions),
    attachments: z.optional(attachments),
  })
  .check(
    z.refine((body) => (body.content === undefined) !== (body.template_id === undefined), 'give either content or template_id (with variables)'),
    z.refine((body) => body.variables === undefined || body.template_id !== undefined, 'variables go with template_id'),
    // The same rule for the OpenAPI document: a refinement has no JSON Schema form of its own.
    z.meta({ oneOf: [{ required: ['content'] }, { required: ['template_id'] }] }),
  );

/** An edit replaces what it names: the content, the mentions (an empty list removes them), or both. */
export const editMessageBody = z
  .strictObject({ content: z.optional(content), mentions: z.optional(mentions) })
  .check(z.refine((body) => body.content !== undefined || body.mentions !== undefined, 'give content, mentions or both'));

export const repliesQuery = z.strictObject({
  limit: limit(100, 50),
  cursor: z.optional(snowflakeString),
});

export const reactionUsersQuery = z.strictObject({
  limit: limit(100, 25),
  cursor: z.optional(uuid),
});

export const bulkDeleteBody = z.strictObject({
  message_ids: z.array(snowflakeString).check(z.minLength(2, 'name at least 2 message ids'), z.maxLength(100, 'name at most 100 message ids')),
});

// v2: templates
import { MAX_TEMPLATE_NAME_CODE_POINTS, PLACEHOLDER_GRAMMAR } from '../templates/model.js';


export const templateName = z
  .string()
  .check(
    z.trim(),
    z.refine(
      (value) => codePointLength(value) >= 1 && codePointLength(value) <= MAX_TEMPLATE_NAME_CODE_POINTS,
      `must be 1 to ${MAX_TEMPLATE_NAME_CODE_POINTS} characters`,
    ),
    storable,
    z.meta({ minLength: 1, maxLength: MAX_TEMPLATE_NAME_CODE_POINTS, description: 'Unique in the channel (exact, case-sensitive, after trimming); counted in code points' }),
  );

export const templateContent = z
  .string()
  .check(
    z.refine((value) => codePointLength(value) >= 1 && codePointLength(value) <= MAX_CONTENT_CODE_POINTS, `must be 1 to ${MAX_CONTENT_CODE_POINTS} characters`),
    storable,
    z.meta({ minLength: 1, maxLength: MAX_CONTENT_CODE_POINTS, description: `Counted in Unicode code points; no U+0000. ${PLACEHOLDER_GRAMMAR}` }),
  );

export const templatePath = z.object({ channel_id: uuid, template_id: uuid });

export const createTemplateBody = z.strictObject({ name: templateName, content: templateContent });

export const updateTemplateBody = z
  .strictObject({ name: z.optional(templateName), content: z.optional(templateContent) })
  .check(z.refine((body) => body.name !== undefined || body.content !== undefined, 'give name, content or both'));

export const listTemplatesQuery = z.strictObject({
  limit: limit(100, 50),
  cursor: z.optional(z.string().check(z.maxLength(1200))),
});

// v2: changes feed
export const listChangesQuery = z.strictObject({
  after: z.optional(
    z.string().check(z.minLength(1), z.maxLength(40), z.meta({ description: 'The opaque `next_cursor` (or a change\'s `cursor`) this feed returned' })),
  ),
  limit: limit(500, 100),
});
