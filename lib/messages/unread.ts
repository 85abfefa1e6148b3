/**
 * Unread counts of many channels at once (GET /channels): where a channel's unread messages all sit in one
 * bucket (the usual case: the reader is less than a bucket behind, or the channel is younger than one), the
 * channels sharing that bucket are counted with one multi-partition read, `PER PARTITION LIMIT cap + 1`,
 * newest first; a page of 50 then costs a statement or two instead of two per channel. Anything else (unread
 * messages over several buckets, or too many deleted rows to tell) goes through the one bucket walk,
 * countLiveAfter.
 */
import cassandra from 'cassandra-driver';
import { bucketOf } from '../ids/snowflake.js';
import { read } from '../scylla/execute.js';
import { toLong } from '../scylla/values.js';
import { countLiveAfter } from './timeline.js';

export interface UnreadQuestion {
  channelId: string;
  /** The reader's position; null: every message is unread. */
  position: bigint | null;
  /** The channel's newest message id (channel_metadata); the caller asks only when it is past the position. */
  lastMessageId: bigint;
}

export type UnreadCount = { count: number; capped: boolean };

/** Channels whose bucket index names one bucket only (at most two rows read per channel, one statement). */
async function singleBucketChannels(channelIds: string[]): Promise<Set<string>> {
  if (channelIds.length === 0) return new Set();
  const result = await read('SELECT channel_id, bucket FROM channel_buckets WHERE channel_id IN ? PER PARTITION LIMIT 2', [channelIds], { fetchSize: 0 });
  const buckets = new Map<string, number>();
  for (const row of result.rows) {
    const id = String(row.get('channel_id'));
    buckets.set(id, (buckets.get(id) ?? 0) + 1);
  }
  return new Set(channelIds.filter((id) => buckets.get(id) === 1));
}

export async function countUnreadMany(questions: readonly UnreadQuestion[], cap: number): Promise<Map<string, UnreadCount>> {
  const counts = new Map<string, UnreadCount>();
  const single = await singleBucketChannels(questions.filter((q) => q.position === null).map((q) => q.channelId));
  const byBucket = new Map<number, UnreadQuestion[]>();
  const walked: UnreadQuestion[] = [];
  for (const question of questions) {
    const bucket = bucketOf(question.lastMessageId);
    const oneBucket = question.position === null ? single.has(question.channelId) : bucketOf(question.position) === bucket;
    if (!oneBucket) walked.push(question);
    else byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), question]);
  }
  await Promise.all(
    [...byBucket].map(async ([bucket, group]) => {
      const floor = group.reduce((low, q) => (q.position === null ? 0n : q.position < low ? q.position : low), (1n << 63n) - 1n);
      const result = await read(
        'SELECT channel_id, message_id, deleted FROM messages WHERE channel_id IN ? AND bucket = ? AND message_id > ? PER PARTITION LIMIT ?',
        [group.map((q) => q.channelId), bucket, toLong(floor), cap + 1],
        { fetchSize: 0 },
      );
      const rows = new Map<string, cassandra.types.Row[]>();
      for (const row of result.rows) {
        const id = String(row.get('channel_id'));
        rows.set(id, [...(rows.get(id) ?? []), row]);
      }
      for (const question of group) {
        const mine = rows.get(question.channelId) ?? [];
        const after = mine.filter((row) => question.position === null || BigInt((row.get('message_id') as cassandra.types.Long).toString()) > question.position);
        const live = after.filter((row) => row.get('deleted') !== true).length;
        if (live > cap) counts.set(question.channelId, { count: cap, capped: true });
        else if (mine.length <= cap) counts.set(question.channelId, { count: live, capped: false });
        else walked.push(question); // a full partition read with deleted rows among it: the walk tells exactly
      }
    }),
  );
  await Promise.all(walked.map(async (question) => counts.set(question.channelId, await countLiveAfter(question.channelId, question.position, cap))));
  return counts;
}
