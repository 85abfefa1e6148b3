/** Ids for Telegram messages: derived from the message itself, so history lands in timeline order. */
import { createHash } from 'node:crypto';
import { encodeSnowflake, EPOCH_MS, TELEGRAM_WORKER_ID } from '../ids/snowflake.js';

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

export function isRepresentableDate(dateSeconds: number): boolean {
  return dateSeconds * 1000 >= EPOCH_MS;
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
