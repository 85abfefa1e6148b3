/**
 * Replies: the thread index (message_replies, one partition per parent, oldest reply first) and the reply
 * counters (message_reply_counts, partitioned like messages by the parent's bucket). The index row is the
 * truth and the gate: linking is INSERT … IF NOT EXISTS and unlinking DELETE … IF EXISTS, and the counter
 * moves only when that conditional write applied, so a nonce retry, a Telegram redelivery or two concurrent
 * deletes never move it twice. Drift (a crash between the row and its counter) is repaired by the reconciler
 * from the index, for parents marked in reply_activity.
 */
import cassandra from 'cassandra-driver';
import { bucketOf } from '../ids/snowflake.js';
import { conditionalWrite, read, readPages, write } from '../scylla/execute.js';
import { toLong } from '../scylla/values.js';

const { Long } = cassandra.types;
const ACTIVITY_SHARDS = 16;

const STATEMENTS = {
  link: 'INSERT INTO message_replies (channel_id, parent_id, reply_id) VALUES (?, ?, ?) IF NOT EXISTS',
  unlink: 'DELETE FROM message_replies WHERE channel_id = ? AND parent_id = ? AND reply_id = ? IF EXISTS',
  page: 'SELECT reply_id FROM message_replies WHERE channel_id = ? AND parent_id = ? AND reply_id > ? LIMIT ?',
  all: 'SELECT reply_id FROM message_replies WHERE channel_id = ? AND parent_id = ?',
  move: 'UPDATE message_reply_counts SET replies = replies + ? WHERE channel_id = ? AND bucket = ? AND message_id = ?',
  countOne: 'SELECT replies FROM message_reply_counts WHERE channel_id = ? AND bucket = ? AND message_id = ?',
  // A clustering-key IN inside one partition: one single-partition read, not a multi-partition IN.
  countIn: 'SELECT message_id, replies FROM message_reply_counts WHERE channel_id = ? AND bucket = ? AND message_id IN ?',
  markActivity: 'INSERT INTO reply_activity (day, shard, channel_id, message_id) VALUES (?, ?, ?, ?)',
  activity: 'SELECT channel_id, message_id FROM reply_activity WHERE day = ? AND shard = ?',
} as const;

export function activityDay(at = Date.now()): number {
  return Math.floor(at / 86_400_000);
}

const asBigint = (value: unknown) => BigInt((value as cassandra.types.Long).toString());

async function markActivity(channelId: string, parentId: bigint): Promise<void> {
  await write(STATEMENTS.markActivity, [activityDay(), Number(parentId % BigInt(ACTIVITY_SHARDS)), channelId, toLong(parentId)]);
}

async function moveCount(channelId: string, parentId: bigint, delta: number): Promise<void> {
  await conditionalWrite(STATEMENTS.move, [Long.fromNumber(delta), channelId, bucketOf(parentId), toLong(parentId)]);
}

/** Adds the reply to its parent's thread; returns true (and moves the count) only when it was not there yet. */
export async function linkReply(channelId: string, parentId: bigint, replyId: bigint): Promise<boolean> {
  await markActivity(channelId, parentId);
  const result = await conditionalWrite(STATEMENTS.link, [channelId, toLong(parentId), toLong(replyId)]);
  if (!result.wasApplied()) return false;
  await moveCount(channelId, parentId, 1);
  return true;
}

/** Removes the reply from its parent's thread; returns true (and moves the count) only when it was there. */
export async function unlinkReply(channelId: string, parentId: bigint, replyId: bigint): Promise<boolean> {
  await markActivity(channelId, parentId);
  const result = await conditionalWrite(STATEMENTS.unlink, [channelId, toLong(parentId), toLong(replyId)]);
  if (!result.wasApplied()) return false;
  await moveCount(channelId, parentId, -1);
  return true;
}

/** Up to `limit` reply ids after `after` (from the start when null), oldest first. */
export async function replyIds(channelId: string, parentId: bigint, after: bigint | null, limit: number): Promise<bigint[]> {
  const result = await read(STATEMENTS.page, [channelId, toLong(parentId), toLong(after ?? 0n), limit], { fetchSize: 0 });
  return result.rows.map((row) => asBigint(row.get('reply_id')));
}

/** The recorded reply count of one message (0 when it never had a reply). */
export async function replyCountOf(channelId: string, messageId: bigint): Promise<number> {
  const row = (await read(STATEMENTS.countOne, [channelId, bucketOf(messageId), toLong(messageId)])).first();
  return row ? (row.get('replies') as cassandra.types.Long).toNumber() : 0;
}

/** Ids per clustering-key IN: ScyllaDB refuses more than 100 clustering restrictions per query by default. */
const IN_CHUNK = 100;

/**
 * The recorded reply counts of any set of messages: one single-partition read per bucket they span (a page of
 * 50 spans one or two), naming the ids with a clustering-key IN, all in parallel. Messages without a row have
 * never had a reply.
 */
export async function replyCountsOf(channelId: string, messageIds: readonly bigint[]): Promise<Map<bigint, number>> {
  const byBucket = new Map<number, bigint[]>();
  for (const id of new Set(messageIds)) {
    const bucket = bucketOf(id);
    const ids = byBucket.get(bucket);
    if (ids) ids.push(id);
    else byBucket.set(bucket, [id]);
  }
  const reads: [number, bigint[]][] = [];
  for (const [bucket, ids] of byBucket) {
    for (let start = 0; start < ids.length; start += IN_CHUNK) reads.push([bucket, ids.slice(start, start + IN_CHUNK)]);
  }
  const counts = new Map<bigint, number>();
  await Promise.all(
    reads.map(async ([bucket, ids]) => {
      const result = await read(STATEMENTS.countIn, [channelId, bucket, ids.map(toLong)], { fetchSize: 0 });
      for (const row of result.rows) counts.set(asBigint(row.get('message_id')), (row.get('replies') as cassandra.types.Long).toNumber());
    }),
  );
  return counts;
}

/** Reply rows of one parent as stored, paging through its partition (the reconciler's source of truth). */
export async function countReplyRows(channelId: string, parentId: bigint): Promise<number> {
  let count = 0;
  for await (const rows of readPages(STATEMENTS.all, [channelId, toLong(parentId)], 5000)) count += rows.length;
  return count;
}

/** Adds `delta` to a reply counter to repair drift the reconciler found. */
export async function adjustReplyCount(channelId: string, parentId: bigint, delta: number): Promise<void> {
  await moveCount(channelId, parentId, delta);
}

/** Parents whose threads changed on `day`, for the reconciler's counter audit. */
export async function* repliedParents(day: number): AsyncGenerator<{ channelId: string; messageId: bigint }> {
  for (let shard = 0; shard < ACTIVITY_SHARDS; shard++) {
    for await (const rows of readPages(STATEMENTS.activity, [day, shard], 1000)) {
      for (const row of rows) yield { channelId: String(row.get('channel_id')), messageId: asBigint(row.get('message_id')) };
    }
  }
}
