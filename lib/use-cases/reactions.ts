/** Reactions on a live message: add or remove the caller's own, read the counts and which are the caller's. */
import type { Principal } from '../auth/principal.js';
import { authorizeChannel } from '../channels/access.js';
import { InvalidRequestError } from '../errors.js';
import { requireLiveMessage } from '../messages/live.js';
import { isValidReaction } from '../reactions/emoji.js';
import { recordChange } from './changes.js';
import { EVERYONE } from '../changes/model.js';
import { addReaction, reactionCount, reactionCounts, reactionsOf, reactionUserIds, removeReaction } from '../reactions/store.js';

function checkEmoji(emoji: string): void {
  if (!isValidReaction(emoji)) {
    throw new InvalidRequestError('emoji must be one emoji or a :name: of 1 to 32 letters, digits, _ + -', 'invalid_emoji');
  }
}

/**
 * The change of a reaction that really moved (a repeat records nothing), with the count after the move. The
 * conditional write that decides it cannot share a batch with the change (Paxos on one partition), so the
 * change follows it; the README says what a crash between the two costs.
 */
async function recordReactionChange(type: 'reaction.added' | 'reaction.removed', channelId: string, messageId: bigint, emoji: string, userId: string | null): Promise<void> {
  // The count is read as part of recording: if Scylla fails there, the change is parked without it and the
  // relay reads it then.
  await recordChange({ channelId, type, audience: EVERYONE, body: { message_id: messageId.toString(), user_id: userId, emoji } }, async () => ({
    count: await reactionCount(channelId, messageId, emoji),
  }));
}

export async function putReaction(principal: Principal, channelId: string, messageId: bigint, emoji: string): Promise<void> {
  checkEmoji(emoji);
  await authorizeChannel(principal, channelId);
  await requireLiveMessage(channelId, messageId);
  if (await addReaction(channelId, messageId, emoji, principal.userId)) {
    await recordReactionChange('reaction.added', channelId, messageId, emoji, principal.userId);
  }
}

export async function deleteReaction(principal: Principal, channelId: string, messageId: bigint, emoji: string): Promise<void> {
  checkEmoji(emoji);
  await authorizeChannel(principal, channelId);
  await requireLiveMessage(channelId, messageId);
  if (await removeReaction(channelId, messageId, emoji, principal.userId)) {
    await recordReactionChange('reaction.removed', channelId, messageId, emoji, principal.userId);
  }
}

/** The reconciler's repair of a drifted counter changes the count clients see: recorded with no user. */
export async function recordCounterRepair(channelId: string, messageId: bigint, emoji: string, delta: number): Promise<void> {
  if (delta !== 0) await recordReactionChange(delta > 0 ? 'reaction.added' : 'reaction.removed', channelId, messageId, emoji, null);
}

export async function getReactions(
  principal: Principal,
  channelId: string,
  messageId: bigint,
): Promise<{ counts: Record<string, number>; mine: string[] }> {
  await authorizeChannel(principal, channelId);
  await requireLiveMessage(channelId, messageId);
  const counts = await reactionCounts(channelId, messageId);
  const mine = await reactionsOf(channelId, messageId, [...counts.keys()], principal.userId);
  return { counts: Object.fromEntries(counts), mine };
}

/**
 * Who reacted with `emoji`, a page at a time in user-id order (the clustering order of the reaction rows):
 * the cursor is the last user id of the previous page.
 */
export async function getReactionUsers(
  principal: Principal,
  channelId: string,
  messageId: bigint,
  emoji: string,
  input: { limit: number; cursor?: string | undefined },
): Promise<{ user_ids: string[]; next_cursor: string | null }> {
  checkEmoji(emoji);
  await authorizeChannel(principal, channelId);
  await requireLiveMessage(channelId, messageId);
  const ids = await reactionUserIds(channelId, messageId, emoji, input.cursor ?? null, input.limit + 1);
  const page = ids.slice(0, input.limit);
  return { user_ids: page, next_cursor: ids.length > input.limit ? page[page.length - 1]! : null };
}
