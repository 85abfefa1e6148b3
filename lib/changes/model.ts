/**
 * A change of the changes feed: what a client needs to apply it (the full message for a create or an edit)
 * without another read, and what the next consumers (push, indexing) need too. Pure: no store, no clock.
 */
import { snowflakeTime } from '../ids/snowflake.js';

export const CHANGE_TYPES = [
  'message.created',
  'message.updated',
  'message.deleted',
  'reaction.added',
  'reaction.removed',
  'pin.added',
  'pin.removed',
  'channel.updated',
  'channel.deleted',
  'member.added',
  'member.removed',
  'read_position.updated',
] as const;

export type ChangeType = (typeof CHANGE_TYPES)[number];

/** The audience of changes every member of the channel sees (a user id names the one reader who sees it). */
export const EVERYONE = '00000000-0000-0000-0000-000000000000';

/** A change before it is stamped: what happened, to which channel, for whom. */
export interface ChangeDraft {
  channelId: string;
  type: ChangeType;
  /** EVERYONE, or the only user who sees it (their own read position). */
  audience: string;
  /** The type's fields in API shape (message, message_id, user_id, emoji, count, channel). */
  body: Record<string, unknown>;
}

/** A stamped change, as stored and as read back. */
export interface ChangeRecord extends ChangeDraft {
  id: bigint;
}

export interface ChangeView {
  cursor: string;
  type: ChangeType;
  at: string;
  channel_id: string;
  [field: string]: unknown;
}

/** The day partition of a change id (or of a position), in days since the Unix epoch. */
export function changeDay(id: bigint): number {
  return Math.floor(snowflakeTime(id) / 86_400_000);
}

/**
 * Cursors are positions in the id order of changes: "everything up to and including this id was returned".
 * Opaque to clients: `c1.` and the id in base 36, so a cursor from another route (or a raw message id) is
 * refused rather than misread.
 */
const CURSOR = /^c1\.([0-9a-z]{1,13})$/;
const MAX_POSITION = (1n << 63n) - 1n;

export function encodeCursor(position: bigint): string {
  return `c1.${position.toString(36)}`;
}

/** The position a cursor stands for; undefined when it is not a cursor this feed issued. */
export function decodeCursor(cursor: string): bigint | undefined {
  const match = CURSOR.exec(cursor);
  if (!match) return undefined;
  let value = 0n;
  for (const digit of match[1]!) value = value * 36n + BigInt(parseInt(digit, 36));
  return value > 0n && value <= MAX_POSITION ? value : undefined;
}

export function toChangeView(change: ChangeRecord): ChangeView {
  return {
    cursor: encodeCursor(change.id),
    type: change.type,
    at: new Date(snowflakeTime(change.id)).toISOString(),
    channel_id: change.channelId,
    ...change.body,
  };
}
