/** Typing indicators in a channel: members only; a read checks every member's key in one round trip. */
import type { Principal } from '../auth/principal.js';
import { authorizeChannel } from '../channels/access.js';
import { channelMemberIds } from '../channels/chat-store.js';
import { markTyping, typingAmong } from '../ephemeral/typing-store.js';

export async function startTyping(principal: Principal, channelId: string): Promise<void> {
  await authorizeChannel(principal, channelId);
  await markTyping(channelId, principal.userId);
}

export async function whoIsTyping(principal: Principal, channelId: string): Promise<string[]> {
  await authorizeChannel(principal, channelId);
  return typingAmong(channelId, await channelMemberIds(channelId));
}
