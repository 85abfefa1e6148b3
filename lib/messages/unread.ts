/**
 * A channel's unread count for GET /channels, from single-partition reads only. The channel's newest message
 * (channel_metadata.last_message_id) names its newest bucket, so:
 *
 *  - a reader whose position lies in that bucket (the usual case) costs one range read of that partition,
 *    `message_id > position`, newest first, `LIMIT` what is still wanted (cap + 1 live rows);
 *  - a reader further behind, or one who never read, costs the newest bucket's read and, beside it, one read of
 *    the bucket index between the position's bucket and the newest; then the older buckets, newest first, a
 *    few at a time, each bounded by what the cap still allows, stopping as soon as the cap is passed.
 *
 * Deleted rows are skipped without ending a read early (countLiveInBucket), so the count is exact up to the cap.
 */
import { bucketOf } from '../ids/snowflake.js';
import { mapConcurrently, readPages } from '../scylla/execute.js';
import { countLiveInBucket } from './timeline.js';

export type UnreadCount = { count: number; capped: boolean };

/** Older buckets read side by side once the newest is counted. */
const PARALLEL_BUCKETS = 4;

const BUCKETS_BETWEEN = 'SELECT bucket FROM channel_buckets WHERE channel_id = ? AND bucket >= ? AND bucket <= ?';

/** The channel's non-empty buckets in [low, high], newest first (one statement unless the channel is years old). */
async function bucketsBetween(channelId: string, low: number, high: number): Promise<number[]> {
  if (high < low) return [];
  const buckets: number[] = [];
  for await (const rows of readPages(BUCKETS_BETWEEN, [channelId, low, high], 500)) for (const row of rows) buckets.push(row.get('bucket') as number);
  return buckets;
}

/**
 * Live messages newer than `position` (all when null), capped at `cap`. `lastMessageId` is the channel's
 * newest message; the caller asks only when it lies past the position.
 */
export async function countUnread(channelId: string, position: bigint | null, lastMessageId: bigint, cap: number): Promise<UnreadCount> {
  const top = bucketOf(lastMessageId);
  const result = (count: number): UnreadCount => (count > cap ? { count: cap, capped: true } : { count, capped: false });
  if (position !== null && bucketOf(position) >= top) return result(await countLiveInBucket(channelId, top, position, cap + 1));
  const [newest, older] = await Promise.all([
    countLiveInBucket(channelId, top, position, cap + 1),
    bucketsBetween(channelId, position === null ? 0 : bucketOf(position), top - 1),
  ]);
  let count = newest;
  for (let next = 0; next < older.length && count <= cap; next += PARALLEL_BUCKETS) {
    const budget = cap + 1 - count;
    const counts = await mapConcurrently(older.slice(next, next + PARALLEL_BUCKETS), PARALLEL_BUCKETS, (bucket) => countLiveInBucket(channelId, bucket, position, budget));
    count += counts.reduce((sum, n) => sum + n, 0);
  }
  return result(count);
}
