/** Read positions: set one (never backwards, see read-positions/store.ts), or read it with the unread count. */
import type { Principal } from '../auth/principal.js';
import { authorizeChannel } from '../channels/access.js';
import { NotFoundError } from '../errors.js';
import { getMessageRecord } from '../messages/store.js';
import { countLiveAfter } from '../messages/timeline.js';
import { advancePosition, currentPosition, readPosition } from '../read-positions/store.js';
import { commitWithChange } from './changes.js';
import { recordReader } from '../read-positions/readers.js';

/** Unread counts stop here (and say so): counting costs a row read per message. */
export const UNREAD_CAP = 1000;

export async function setReadPosition(principal: Principal, channelId: string, messageId: bigint): Promise<{ message_id: string }> {
  await authorizeChannel(principal, channelId);
  // The message and the stored position are read side by side (both are needed before any write).
  const [message, current] = await Promise.all([getMessageRecord(channelId, messageId), currentPosition(channelId, principal.userId)]);
  if (!message) throw new NotFoundError('Message not found');
  // Positions never move back: one at or past this message already is no change, and records none.
  if (current !== null && current >= messageId) return { message_id: current.toString() };
  // Named in the channel's index before the position exists, so the purge finds it (members who leave, services).
  await recordReader(channelId, principal.userId);
  let stored: bigint | null = null;
  await commitWithChange(
    { channelId, type: 'read_position.updated', audience: principal.userId, body: { message_id: messageId.toString(), user_id: principal.userId } },
    async (change, deadlineMs) => {
      stored = await advancePosition(channelId, principal.userId, messageId, { statements: [change], options: { readTimeout: deadlineMs } });
    },
  );
  return { message_id: (stored ?? messageId).toString() };
}

export async function getReadPosition(
  principal: Principal,
  channelId: string,
): Promise<{ message_id: string | null; unread_count: number; unread_capped: boolean }> {
  await authorizeChannel(principal, channelId);
  const position = await readPosition(channelId, principal.userId);
  const { count, capped } = await countLiveAfter(channelId, position, UNREAD_CAP);
  return { message_id: position === null ? null : position.toString(), unread_count: count, unread_capped: capped };
}
