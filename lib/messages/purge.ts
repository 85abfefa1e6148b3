/**
 * Removing a deleted channel's timeline with partition-level deletes only: the bucket index names every
 * (channel, bucket) partition, and each is dropped with one partition tombstone however many messages it
 * held (never one tombstone per message). Reply threads and reply counters go the same way. Every statement
 * is idempotent, so a purge that stopped anywhere can simply run again from its last finished bucket.
 */
import cassandra from 'cassandra-driver';
import { read, readPages, write } from '../scylla/execute.js';

const MAX_BUCKET = 2_147_483_647;

/** Up to `limit` buckets of the channel strictly below `below` (all when null), newest first. */
export async function bucketsBelow(channelId: string, below: number | null, limit: number): Promise<number[]> {
  const result = await read('SELECT bucket FROM channel_buckets WHERE channel_id = ? AND bucket < ? LIMIT ?', [channelId, below ?? MAX_BUCKET, limit], { fetchSize: 0 });
  return result.rows.map((row) => row.get('bucket') as number);
}

/** The ids in one bucket partition, a page at a time (ids only: the purge reads nothing else). */
export async function* messageIdPages(channelId: string, bucket: number, pageSize: number): AsyncGenerator<bigint[]> {
  for await (const rows of readPages('SELECT message_id FROM messages WHERE channel_id = ? AND bucket = ?', [channelId, bucket], pageSize)) {
    yield rows.map((row) => BigInt((row.get('message_id') as cassandra.types.Long).toString()));
  }
}

/**
 * The bucket's reply threads and counters, then the bucket's messages: the threads are keyed by their
 * parent, found in the bucket's counter partition; the counters and the messages are one partition each.
 */
export async function purgeBucket(channelId: string, bucket: number): Promise<void> {
  const parents = await read('SELECT message_id FROM message_reply_counts WHERE channel_id = ? AND bucket = ?', [channelId, bucket], { fetchSize: 0 });
  await Promise.all(
    parents.rows.map((row) => write('DELETE FROM message_replies WHERE channel_id = ? AND parent_id = ?', [channelId, row.get('message_id') as cassandra.types.Long])),
  );
  await write('DELETE FROM message_reply_counts WHERE channel_id = ? AND bucket = ?', [channelId, bucket]);
  await write('DELETE FROM messages WHERE channel_id = ? AND bucket = ?', [channelId, bucket]);
}

/** The bucket index itself: last, once every bucket it names is gone. */
export async function purgeBucketIndex(channelId: string): Promise<void> {
  await write('DELETE FROM channel_buckets WHERE channel_id = ?', [channelId]);
}
