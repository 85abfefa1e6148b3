/** The message a route acts on must exist in the channel and not be deleted. */
import { NotFoundError } from '../errors.js';
import type { MessageRecord } from './model.js';
import { getMessageRecord } from './store.js';

export async function requireLiveMessage(channelId: string, messageId: bigint): Promise<MessageRecord> {
  const message = await getMessageRecord(channelId, messageId);
  if (!message || message.deleted) throw new NotFoundError('Message not found');
  return message;
}
