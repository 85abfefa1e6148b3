/** Ids for Telegram messages: derived from the message itself, so history lands in timeline order. */
import { createHash } from 'node:crypto';
import { encodeSnowflake, EPOCH_MS, MINTED_SEQUENCES, TELEGRAM_WORKER_ID } from '../ids/snowflake.js';

/** The latest time an id holds, as encodeSnowflake enforces it (lib/ids/snowflake.ts: 2^41 - 1 ms after the epoch). */
const MAX_SNOWFLAKE_TIME_MS = 2 ** 41 - 1;

/**
 * Telegram-derived ids take the cells of a millisecond that no generator mints: sequences from 1024 up (a
 * SnowflakeGenerator mints sequences 0..1023 only, then moves to the next millisecond), under worker ids 0..1022.
 * Worker 1023 (TELEGRAM_WORKER_ID) stays out of both: ids of the earlier encoding (date second + id mod 1000 ms,
 * id / 1000 as sequence, worker 1023) are stored, so a new Telegram id must never land on one of them either.
 */
export const TELEGRAM_FIRST_SEQUENCE = MINTED_SEQUENCES;
const TELEGRAM_SEQUENCES = 4096 - TELEGRAM_FIRST_SEQUENCE;
const TELEGRAM_WORKERS = TELEGRAM_WORKER_ID;
const TELEGRAM_CELLS_PER_MS = TELEGRAM_WORKERS * TELEGRAM_SEQUENCES;

/**
 * The largest Telegram message id that fits one `date` second in Telegram's order: 1000 ms × 1023 workers ×
 * 3072 sequences = 3,142,656,000. A Telegram message id is an MTProto `int` (32 bits, signed: `message#… id:int`),
 * and the Bot API passes it through unchanged, so every real id (1 to 2^31 - 1 = 2,147,483,647) is below it.
 */
export const MAX_TELEGRAM_MESSAGE_ID = 1000 * TELEGRAM_CELLS_PER_MS;

/** Whether a Telegram message id can become a message id (telegramSnowflake would throw for any other). */
export function isRepresentableMessageId(telegramMessageId: number): boolean {
  return Number.isSafeInteger(telegramMessageId) && telegramMessageId >= 1 && telegramMessageId <= MAX_TELEGRAM_MESSAGE_ID;
}

/**
 * The message id of a Telegram message, a function of its `date` second and its Telegram id only (a redelivery
 * or a second writer derives the same id). The id's rank in the second (message id - 1) is written in mixed
 * radix over the millisecond (1000), the worker id (1023) and the Telegram sequences (3072), most significant
 * first, the order in which a Snowflake compares them: so within one second the order of Telegram ids is the
 * order of message ids for any two ids, ids of different seconds follow their dates, and two messages of a chat
 * never share an id. An id an API container mints is never equal to one (disjoint cells, see above).
 */
export function telegramSnowflake(dateSeconds: number, telegramMessageId: number): bigint {
  if (!isRepresentableMessageId(telegramMessageId)) throw new RangeError(`Telegram message id ${telegramMessageId}`);
  const rank = telegramMessageId - 1;
  const ms = dateSeconds * 1000 + Math.floor(rank / TELEGRAM_CELLS_PER_MS);
  const cell = rank % TELEGRAM_CELLS_PER_MS;
  return encodeSnowflake(ms, Math.floor(cell / TELEGRAM_SEQUENCES), TELEGRAM_FIRST_SEQUENCE + (cell % TELEGRAM_SEQUENCES));
}

/**
 * Whether a Telegram `date` (or `edit_date`), in seconds, can become a message id and a write timestamp:
 * from the Snowflake epoch (2024-01-01) up to the last millisecond a signed 64-bit id holds (2^41 - 1 ms
 * after it, September 2093), less the sub-second spread telegramSnowflake adds. A date outside that (a
 * forged or corrupt update: Telegram's own dates are the present) is skipped, never a 500 that Telegram
 * would redeliver forever.
 */
export function isRepresentableDate(dateSeconds: number): boolean {
  const ms = dateSeconds * 1000;
  return Number.isSafeInteger(dateSeconds) && ms >= EPOCH_MS && ms + 999 <= EPOCH_MS + MAX_SNOWFLAKE_TIME_MS;
}

const NAMESPACE = Buffer.from('8f2c1a4e6b3d4c7a9e5f0a1b2c3d4e5f', 'hex');

/** A stable UUID (version 5 layout) for a Telegram user or chat acting as an author. */
export function telegramAuthorId(kind: 'user' | 'chat', id: number): string {
  const hash = createHash('sha1').update(NAMESPACE).update(`telegram:${kind}:${id}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
