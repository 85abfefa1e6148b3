/**
 * Indexing work PostgreSQL could not take: kept in Scylla (which just stored the message) and drained by
 * the reconciler, so no message stays unsearchable after an outage.
 */
import cassandra from 'cassandra-driver';
import { read, write } from '../scylla/execute.js';
import { toLong } from '../scylla/values.js';

export const BACKLOG_SHARDS = 8;
export type IndexOperation = 'index' | 'delete';

export interface BacklogEntry {
  shard: number;
  entryId: cassandra.types.TimeUuid;
  channelId: string;
  messageId: bigint;
  operation: IndexOperation;
}

export async function enqueueIndexing(channelId: string, messageId: bigint, operation: IndexOperation): Promise<void> {
  await write('INSERT INTO search_index_backlog (shard, entry_id, channel_id, message_id, operation) VALUES (?, ?, ?, ?, ?)', [
    Number(messageId % BigInt(BACKLOG_SHARDS)),
    cassandra.types.TimeUuid.now(),
    channelId,
    toLong(messageId),
    operation,
  ]);
}

export async function backlogBatch(shard: number, limit: number): Promise<BacklogEntry[]> {
  const result = await read('SELECT entry_id, channel_id, message_id, operation FROM search_index_backlog WHERE shard = ? LIMIT ?', [shard, limit]);
  return result.rows.map((row) => toEntry(shard, row));
}

/** The columns a backlog entry and a dead letter share. */
function toEntry(shard: number, row: cassandra.types.Row): BacklogEntry {
  return {
    shard,
    entryId: row.get('entry_id') as cassandra.types.TimeUuid,
    channelId: String(row.get('channel_id')),
    messageId: BigInt((row.get('message_id') as cassandra.types.Long).toString()),
    operation: row.get('operation') as IndexOperation,
  };
}

/** Search-index work set aside because it can never succeed, with the error that said so. */
export interface DeadLetter extends BacklogEntry {
  error: string;
  setAsideAt: Date;
}

const MAX_ERROR_LENGTH = 2000;

/**
 * Sets indexing work aside in search_index_dead_letters (same shard and entry id when it comes from the
 * backlog, so setting one entry aside twice keeps one row).
 */
export async function deadLetterIndexing(
  work: { channelId: string; messageId: bigint; operation: IndexOperation; entryId?: cassandra.types.TimeUuid },
  error: string,
): Promise<void> {
  await write(
    'INSERT INTO search_index_dead_letters (shard, entry_id, channel_id, message_id, operation, error, set_aside_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [
      Number(work.messageId % BigInt(BACKLOG_SHARDS)),
      work.entryId ?? cassandra.types.TimeUuid.now(),
      work.channelId,
      toLong(work.messageId),
      work.operation,
      error.slice(0, MAX_ERROR_LENGTH),
      new Date(),
    ],
  );
}

/** Moves a backlog entry to the dead letters: written there first, so an interruption never loses it. */
export async function setAsideBacklogEntry(entry: BacklogEntry, error: string): Promise<void> {
  await deadLetterIndexing(entry, error);
  await removeBacklogEntry(entry);
}

export async function deadLetters(shard: number, limit: number): Promise<DeadLetter[]> {
  const result = await read(
    'SELECT entry_id, channel_id, message_id, operation, error, set_aside_at FROM search_index_dead_letters WHERE shard = ? LIMIT ?',
    [shard, limit],
  );
  return result.rows.map((row) => ({
    ...toEntry(shard, row),
    error: String(row.get('error')),
    setAsideAt: row.get('set_aside_at') as Date,
  }));
}

export async function removeBacklogEntry(entry: BacklogEntry): Promise<void> {
  await write('DELETE FROM search_index_backlog WHERE shard = ? AND entry_id = ?', [entry.shard, entry.entryId]);
}

export async function backlogSize(): Promise<number> {
  let total = 0;
  for (let shard = 0; shard < BACKLOG_SHARDS; shard++) total += (await backlogBatch(shard, 10_000)).length;
  return total;
}
