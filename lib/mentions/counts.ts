/**
 * Mention counts of many channels for one user in one multi-partition read (GET /channels): rows are newest
 * first, so with `PER PARTITION LIMIT cap + 1` the rows past each channel's read position are a prefix of its
 * partition's answer, and counting them is exact up to the cap.
 */
import cassandra from 'cassandra-driver';
import { read } from '../scylla/execute.js';
import { toLong } from '../scylla/values.js';

export async function countMentionsMany(
  userId: string,
  positions: ReadonlyMap<string, bigint | null>,
  cap: number,
): Promise<Map<string, { count: number; capped: boolean }>> {
  const counts = new Map<string, { count: number; capped: boolean }>();
  const channelIds = [...positions.keys()];
  if (channelIds.length === 0) return counts;
  const floor = [...positions.values()].reduce<bigint>((low, position) => (position === null ? 0n : position < low ? position : low), (1n << 63n) - 1n);
  const result = await read(
    'SELECT channel_id, message_id FROM message_mentions WHERE channel_id IN ? AND user_id = ? AND message_id > ? PER PARTITION LIMIT ?',
    [channelIds, userId, toLong(floor), cap + 1],
    { fetchSize: 0 },
  );
  const found = new Map<string, number>();
  for (const row of result.rows) {
    const channelId = String(row.get('channel_id'));
    const position = positions.get(channelId) ?? null;
    if (position === null || BigInt((row.get('message_id') as cassandra.types.Long).toString()) > position) found.set(channelId, (found.get(channelId) ?? 0) + 1);
  }
  for (const channelId of channelIds) {
    const count = found.get(channelId) ?? 0;
    counts.set(channelId, count > cap ? { count: cap, capped: true } : { count, capped: false });
  }
  return counts;
}
