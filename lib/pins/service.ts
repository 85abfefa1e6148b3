/**
 * Pins: one row per pinned message in the channel's partition. Pinning is a conditional insert so a repeat
 * keeps the first pin time; reads skip (and clean up) pins of messages deleted since.
 */
import cassandra from 'cassandra-driver';
import type { Principal } from '../auth/principal.js';
import { authorizeChannel } from '../channels/access.js';
import { ConflictError } from '../errors.js';
import { requireLiveMessage } from '../messages/live.js';
import { toMessageView, type MessageView } from '../messages/model.js';
import { getMessageRecord, toLong } from '../messages/store.js';
import { conditionalWrite, read, write } from '../scylla/execute.js';

export const MAX_PINS = 250;

async function pinRows(channelId: string): Promise<{ messageId: bigint; pinnedAt: Date }[]> {
  const result = await read('SELECT message_id, pinned_at FROM pinned_messages WHERE channel_id = ? LIMIT ?', [channelId, MAX_PINS + 50]);
  return result.rows.map((row) => ({
    messageId: BigInt((row.get('message_id') as cassandra.types.Long).toString()),
    pinnedAt: row.get('pinned_at') as Date,
  }));
}

export async function unpinStored(channelId: string, messageId: bigint): Promise<void> {
  await write('DELETE FROM pinned_messages WHERE channel_id = ? AND message_id = ?', [channelId, toLong(messageId)]);
}

export async function pinMessage(principal: Principal, channelId: string, messageId: bigint): Promise<void> {
  await authorizeChannel(principal, channelId);
  await requireLiveMessage(channelId, messageId);
  const existing = await pinRows(channelId);
  if (existing.some((pin) => pin.messageId === messageId)) return;
  if (existing.length >= MAX_PINS) throw new ConflictError(`A channel holds at most ${MAX_PINS} pins; unpin one first`);
  await conditionalWrite(
    'INSERT INTO pinned_messages (channel_id, message_id, pinned_at, pinned_by) VALUES (?, ?, ?, ?) IF NOT EXISTS',
    [channelId, toLong(messageId), new Date(), principal.userId],
  );
}

export async function unpinMessage(principal: Principal, channelId: string, messageId: bigint): Promise<void> {
  await authorizeChannel(principal, channelId);
  await unpinStored(channelId, messageId);
}

export async function listPins(principal: Principal, channelId: string): Promise<MessageView[]> {
  await authorizeChannel(principal, channelId);
  const pins = (await pinRows(channelId)).sort((a, b) => b.pinnedAt.getTime() - a.pinnedAt.getTime() || (a.messageId < b.messageId ? 1 : -1));
  const messages = await Promise.all(pins.map((pin) => getMessageRecord(channelId, pin.messageId)));
  const views: MessageView[] = [];
  for (const [index, message] of messages.entries()) {
    if (message && !message.deleted) views.push(toMessageView(message));
    else await unpinStored(channelId, pins[index]!.messageId);
  }
  return views;
}
