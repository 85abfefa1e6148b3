/**
 * The search outbox (message_search_outbox, cql/scylla/0009): one row per message write that changes what
 * search should find, written in the same logged batch as that write, so it exists exactly when the write does.
 * The indexer applies it at once from the changes bus; the reconciler's sweep reads it slot by slot, after a
 * grace, and re-applies what the indexer missed (lib/use-cases/reconciler/search-sweep.ts).
 */
import cassandra from 'cassandra-driver';
import { readDecisive, type Statement } from '../scylla/execute.js';
import { toLong } from '../scylla/values.js';
import type { IndexOperation } from './backlog.js';

const { Long } = cassandra.types;

/** Partitions per slot: one slot's writes spread over this many replicas' sets. */
export const OUTBOX_SHARDS = 8;
/** The slot width: the sweep's step. */
export const OUTBOX_SLOT_MS = 10_000;
/** Rows live this long (the table's default TTL): a sweep further behind than this has lost rows. */
export const OUTBOX_TTL_MS = 3 * 86_400_000;

const INSERT = 'INSERT INTO message_search_outbox (shard, slot, channel_id, message_id, operation) VALUES (?, ?, ?, ?, ?)';
const INSERT_AT = 'INSERT INTO message_search_outbox (shard, slot, channel_id, message_id, operation) VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?';
const SLOT = 'SELECT channel_id, message_id, operation, WRITETIME(operation) AS written FROM message_search_outbox WHERE shard = ? AND slot = ?';

export function slotOf(unixMs: number): number {
  return Math.floor(unixMs / OUTBOX_SLOT_MS);
}

/**
 * The shard of a message: its id's millisecond, worker and sequence mixed. The id alone modulo 8 would be its
 * sequence, 0 for nearly every message at a low rate: every row in one shard.
 */
export function outboxShard(messageId: bigint): number {
  return Number((messageId + (messageId >> 12n) + (messageId >> 22n)) & BigInt(OUTBOX_SHARDS - 1));
}

/**
 * The outbox row of one message write, to add to that write's batch. `writeTimestampMicros` must be the
 * timestamp the message statement is written with when it names one (USING TIMESTAMP: an edit, a Telegram
 * message); without it the row takes the batch's timestamp, as the message statement does. Either way the
 * row's write time is the message write's, which is what the sweep compares.
 */
export function searchOutboxStatement(channelId: string, messageId: bigint, operation: IndexOperation, writeTimestampMicros?: number, now = Date.now()): Statement {
  const params = [outboxShard(messageId), Long.fromNumber(slotOf(now)), channelId, toLong(messageId), operation];
  return writeTimestampMicros === undefined ? { query: INSERT, params } : { query: INSERT_AT, params: [...params, Long.fromNumber(writeTimestampMicros)] };
}

export interface OutboxEntry {
  channelId: string;
  messageId: bigint;
  operation: IndexOperation;
  /** The message write's timestamp (µs): PostgreSQL must hold a state at least this new. */
  writtenMicros: bigint;
}

/** Every row of one shard of one slot (a slot of one shard is small: 10 s of an eighth of the writes). */
export async function outboxSlot(shard: number, slot: number): Promise<OutboxEntry[]> {
  const entries: OutboxEntry[] = [];
  let pageState: string | undefined;
  do {
    const result = await readDecisive(SLOT, [shard, Long.fromNumber(slot)], { fetchSize: 1000, pageState });
    for (const row of result.rows) {
      entries.push({
        channelId: String(row.get('channel_id')),
        messageId: BigInt((row.get('message_id') as cassandra.types.Long).toString()),
        operation: row.get('operation') as IndexOperation,
        writtenMicros: BigInt((row.get('written') as cassandra.types.Long).toString()),
      });
    }
    pageState = result.pageState ?? undefined;
  } while (pageState);
  return entries;
}
