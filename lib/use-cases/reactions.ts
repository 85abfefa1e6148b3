/** Reactions on a live message: add or remove the caller's own, read the counts and which are the caller's. */
import type { Principal } from '../auth/principal.js';
import { authorizeChannel } from '../channels/access.js';
import { InvalidRequestError } from '../errors.js';
import { requireLiveMessage } from '../messages/live.js';
import { isValidReaction } from '../reactions/emoji.js';
import { addReaction, reactionCounts, reactionsOf, removeReaction } from '../reactions/store.js';

function checkEmoji(emoji: string): void {
  if (!isValidReaction(emoji)) {
    throw new InvalidRequestError('emoji must be one emoji or a :name: of 1 to 32 letters, digits, _ + -', 'invalid_emoji');
  }
}

export async function putReaction(principal: Principal, channelId: string, messageId: bigint, emoji: string): Promise<void> {
  checkEmoji(emoji);
  await authorizeChannel(principal, channelId);
  await requireLiveMessage(channelId, messageId);
  await addReaction(channelId, messageId, emoji, principal.userId);
}

export async function deleteReaction(principal: Principal, channelId: string, messageId: bigint, emoji: string): Promise<void> {
  checkEmoji(emoji);
  await authorizeChannel(principal, channelId);
  await requireLiveMessage(channelId, messageId);
  await removeReaction(channelId, messageId, emoji, principal.userId);
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
