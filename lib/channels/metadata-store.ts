/** channel_metadata in Scylla: the channel as reads need it, without PostgreSQL. */
import cassandra from 'cassandra-driver';
import { read, write } from '../scylla/execute.js';
import { toLong, writeTimestampOf } from '../scylla/values.js';
import type { ChannelRecord } from './model.js';

const { Long } = cassandra.types;

export async function putChannelMetadata(channel: ChannelRecord): Promise<void> {
  // Unset columns are left out of the statement entirely: binding null would write a tombstone.
  const columns = ['channel_id', 'name', 'owner_id', 'created_at'];
  const values: unknown[] = [channel.id, channel.name, channel.ownerId, channel.createdAt];
  if (channel.telegramChatId !== null) {
    columns.push('telegram_chat_id');
    values.push(Long.fromNumber(channel.telegramChatId));
  }
  await write(
    `INSERT INTO channel_metadata (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    values,
  );
}

export async function getChannelMetadata(channelId: string): Promise<ChannelRecord | undefined> {
  const result = await read(
    'SELECT channel_id, name, owner_id, telegram_chat_id, created_at, last_message_id FROM channel_metadata WHERE channel_id = ?',
    [channelId],
  );
  const row = result.first();
  if (!row || row.get('name') === null) return undefined;
  const telegram = row.get('telegram_chat_id') as cassandra.types.Long | null;
  const last = row.get('last_message_id') as cassandra.types.Long | null;
  return {
    id: String(row.get('channel_id')),
    name: row.get('name') as string,
    ownerId: String(row.get('owner_id')),
    telegramChatId: telegram ? telegram.toNumber() : null,
    createdAt: row.get('created_at') as Date,
    lastMessageId: last ? BigInt(last.toString()) : null,
  };
}

/**
 * Moves last_message_id forward without reading it: the write carries the message's own time as its
 * timestamp, so an older message (Telegram history, a slow writer) never replaces a newer one.
 */
export async function advanceLastMessageId(channelId: string, messageId: bigint): Promise<void> {
  await write(
    'UPDATE channel_metadata USING TIMESTAMP ? SET last_message_id = ? WHERE channel_id = ?',
    [writeTimestampOf(messageId), toLong(messageId), channelId],
  );
}
