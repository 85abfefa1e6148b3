/** channel_metadata in Scylla: the channel as reads need it, without PostgreSQL. */
import cassandra from 'cassandra-driver';
import { read, write, type Statement } from '../scylla/execute.js';
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

const SELECT_METADATA = 'SELECT channel_id, name, owner_id, telegram_chat_id, created_at, last_message_id, deleted_at FROM channel_metadata';

function rowToRecord(row: cassandra.types.Row): ChannelRecord {
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

const isLive = (row: cassandra.types.Row | null | undefined): row is cassandra.types.Row =>
  Boolean(row) && row!.get('name') !== null && row!.get('deleted_at') === null;

/** The channel's row; undefined when absent, half-written, or marked deleted. */
export async function getChannelMetadata(channelId: string): Promise<ChannelRecord | undefined> {
  const row = (await read(`${SELECT_METADATA} WHERE channel_id = ?`, [channelId])).first();
  return isLive(row) ? rowToRecord(row) : undefined;
}

/**
 * The row as the purge needs it, deleted or not: its Telegram chat survives the PostgreSQL link, which the
 * delete released at once.
 */
export async function getPurgeTarget(channelId: string): Promise<{ telegramChatId: number | null } | undefined> {
  const row = (await read(`${SELECT_METADATA} WHERE channel_id = ?`, [channelId])).first();
  if (!row) return undefined;
  const telegram = row.get('telegram_chat_id') as cassandra.types.Long | null;
  return { telegramChatId: telegram ? telegram.toNumber() : null };
}

export async function renameChannelMetadata(channelId: string, name: string): Promise<void> {
  await write('UPDATE channel_metadata SET name = ? WHERE channel_id = ?', [name, channelId]);
}

export async function setChannelTelegramChat(channelId: string, telegramChatId: number): Promise<void> {
  await write('UPDATE channel_metadata SET telegram_chat_id = ? WHERE channel_id = ?', [Long.fromNumber(telegramChatId), channelId]);
}

/** The Scylla half of a delete's first step: reads without PostgreSQL (and the replica check) see it gone. */
export async function markChannelMetadataDeleted(channelId: string, at: Date): Promise<void> {
  await write('UPDATE channel_metadata SET deleted_at = ? WHERE channel_id = ?', [at, channelId]);
}

/** The purge's last Scylla step: the row itself, one partition tombstone. */
export async function deleteChannelMetadata(channelId: string): Promise<void> {
  await write('DELETE FROM channel_metadata WHERE channel_id = ?', [channelId]);
}

/**
 * Moves last_message_id forward without reading it: the write carries the message's own time as its
 * timestamp, so an older message (Telegram history, a slow writer) never replaces a newer one. A statement,
 * so the message write carries it in its own batch (no round trip of its own).
 */
export function lastMessageIdStatement(channelId: string, messageId: bigint): Statement {
  return {
    query: 'UPDATE channel_metadata USING TIMESTAMP ? SET last_message_id = ? WHERE channel_id = ?',
    params: [writeTimestampOf(messageId), toLong(messageId), channelId],
  };
}
