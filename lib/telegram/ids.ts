/** Ids for Telegram messages: derived from the message itself, so history lands in timeline order. */
import { createHash } from 'node:crypto';
import { encodeSnowflake, EPOCH_MS, TELEGRAM_WORKER_ID } from '../ids/snowflake.js';

/** The latest time an id holds, as encodeSnowflake enforces it (lib/ids/snowflake.ts: 2^41 - 1 ms after the epoch). */
const MAX_SNOWFLAKE_TIME_MS = 2 ** 41 - 1;

/**
 * The message id of a Telegram message: its `date` second, with the Telegram id spread over the
 * millisecond and sequence bits so messages of one second keep Telegram's order and never collide
 * within a chat (they would have to be 4,096,000 Telegram ids apart in the same second). The reserved
 * worker id keeps them apart from every id minted by the API.
 */
export function telegramSnowflake(dateSeconds: number, telegramMessageId: number): bigint {
  const ms = dateSeconds * 1000 + (telegramMessageId % 1000);
  const sequence = Math.floor(telegramMessageId / 1000) % 4096;
  return encodeSnowflake(ms, TELEGRAM_WORKER_ID, sequence);
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
