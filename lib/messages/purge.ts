/**
 * Removing a deleted channel's timeline with partition-level deletes only: the bucket index names every
 * (channel, bucket) partition, and each is dropped with one partition tombstone however many messages it
 * held (never one tombstone per message). Reply threads go per parent partition, found both through the
 * bucket's reply counters and through the reply_to_id of every message paged (a thread whose counter was
 * never written is still found). Every statement is idempotent, so a purge that stopped anywhere can run
 * again from its checkpoint.
 */
import cassandra from 'cassandra-driver';
import { mapConcurrently, read, readPages, write } from '../scylla/execute.js';
import { toLong } from '../scylla/values.js';

const MAX_BUCKET = 2_147_483_647;

/** Up to `limit` buckets of the channel strictly below `below` (all when null), newest first. */
export async function bucketsBelow(channelId: string, below: number | null, limit: number): Promise<number[]> {
  const result = await read('SELECT bucket FROM channel_buckets WHERE channel_id = ? AND bucket < ? LIMIT ?', [channelId, below ?? MAX_BUCKET, limit], { fetchSize: 0 });
  return result.rows.map((row) => row.get('bucket') as number);
}

export interface MessagePage {
  /** The page's message ids, newest first (the partition's clustering order). */
  ids: bigint[];
  /** The distinct parents the page's messages reply to. */
  replyParents: bigint[];
}

const asBigInt = (value: cassandra.types.Long) => BigInt(value.toString());

/** One bucket's messages a page at a time, newest first, from below `beforeId` (from the newest when null). */
export async function* messagePages(channelId: string, bucket: number, beforeId: bigint | null, pageSize: number): AsyncGenerator<MessagePage> {
  const pages =
    beforeId === null
      ? readPages('SELECT message_id, reply_to_id FROM messages WHERE channel_id = ? AND bucket = ?', [channelId, bucket], pageSize)
      : readPages('SELECT message_id, reply_to_id FROM messages WHERE channel_id = ? AND bucket = ? AND message_id < ?', [channelId, bucket, toLong(beforeId)], pageSize);
  for await (const rows of pages) {
    const parents = new Map<string, bigint>();
    for (const row of rows) {
      const parent = row.get('reply_to_id') as cassandra.types.Long | null;
      if (parent) parents.set(parent.toString(), asBigInt(parent));
    }
    yield { ids: rows.map((row) => asBigInt(row.get('message_id') as cassandra.types.Long)), replyParents: [...parents.values()] };
  }
}

/** The thread partitions of these parents: one partition tombstone each. */
export async function purgeThreads(channelId: string, parentIds: readonly bigint[], concurrency: number): Promise<void> {
  await mapConcurrently(parentIds, concurrency, (parentId) => write('DELETE FROM message_replies WHERE channel_id = ? AND parent_id = ?', [channelId, toLong(parentId)]));
}

/**
 * The bucket's reply threads found by their counters, the counters, then the bucket's messages: the
 * counters and the messages are one partition each.
 */
export async function purgeBucket(channelId: string, bucket: number, concurrency: number): Promise<void> {
  const parents = await read('SELECT message_id FROM message_reply_counts WHERE channel_id = ? AND bucket = ?', [channelId, bucket], { fetchSize: 0 });
  await purgeThreads(channelId, parents.rows.map((row) => asBigInt(row.get('message_id') as cassandra.types.Long)), concurrency);
  await write('DELETE FROM message_reply_counts WHERE channel_id = ? AND bucket = ?', [channelId, bucket]);
  await write('DELETE FROM messages WHERE channel_id = ? AND bucket = ?', [channelId, bucket]);
}

/** The bucket index itself: last, once every bucket it names is gone. */
export async function purgeBucketIndex(channelId: string): Promise<void> {
  await write('DELETE FROM channel_buckets WHERE channel_id = ?', [channelId]);
}
