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
  return result.rows.map((row) => ({
    shard,
    entryId: row.get('entry_id') as cassandra.types.TimeUuid,
    channelId: String(row.get('channel_id')),
    messageId: BigInt((row.get('message_id') as cassandra.types.Long).toString()),
    operation: row.get('operation') as IndexOperation,
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
