/**
 * Reading a channel's timeline across 10-day buckets. The bucket index (channel_buckets) names the buckets
 * that hold messages, so a page costs one index query plus one query per non-empty bucket it draws from,
 * however far apart those buckets are: empty windows are never probed. The one walk over the index
 * (bucketBatches) serves both the timeline pages and the unread count.
 */
import { bucketOf } from '../ids/snowflake.js';
import { mapConcurrently, read } from '../scylla/execute.js';
import { toLong } from '../scylla/values.js';
import type { MessageRecord } from './model.js';
import { rowToMessage, STATEMENTS } from './store.js';

const MAX_ID = (1n << 63n) - 1n;
/** Buckets fetched from the index per query for a page: enough even when every message has its own bucket. */
const PAGE_BUCKET_BATCH = 64;
/** Buckets fetched from the index per query for the unread count, which reads each bucket on its own. */
const COUNT_BUCKET_BATCH = 16;
/**
 * Buckets read at once after the first, each with its own single-partition statement (never one multi-partition
 * `IN`: that makes one coordinator gather many partitions, the pattern the ScyllaDB and Cassandra guides warn
 * against, and one slow partition holds the whole answer). Every bucket in the index holds at least one
 * message, so a page that still wants N messages reads at most N buckets in a round.
 */
const BUCKETS_PER_ROUND = 16;
/** Extra rows asked for per read, so a few deleted messages do not cost another round trip. */
const DELETED_SLACK = 5;

type Direction = 'older' | 'newer';

/**
 * The channel's non-empty buckets from `fromBucket` (included) in one direction, nearest first: one index
 * query per yielded batch of at most `batchSize`. Lazy, so a caller that has enough stops the walk without
 * another index query.
 */
async function* bucketBatches(channelId: string, fromBucket: number, direction: Direction, batchSize: number): AsyncGenerator<number[]> {
  let from = fromBucket;
  for (;;) {
    const index = await read(direction === 'older' ? STATEMENTS.bucketsAtOrBelow : STATEMENTS.bucketsAtOrAbove, [channelId, from, batchSize]);
    const buckets = index.rows.map((row) => row.get('bucket') as number);
    if (buckets.length > 0) yield buckets;
    if (buckets.length < batchSize) return;
    from = direction === 'older' ? buckets[buckets.length - 1]! - 1 : buckets[buckets.length - 1]! + 1;
  }
}

/**
 * Up to `limit` live messages strictly older (or newer) than `bound`, nearest first. Reads the bucket index
 * once, the nearest bucket alone (a dense channel's page is usually all there), then the following buckets in
 * parallel single-partition reads, so a page costs about three round trips whether its messages share one
 * bucket or are spread over fifty.
 */
async function walk(channelId: string, bound: bigint, limit: number, direction: Direction): Promise<MessageRecord[]> {
  const found: MessageRecord[] = [];
  let cursor = bound;
  const statement = direction === 'older' ? STATEMENTS.olderInBucket : STATEMENTS.newerInBucket;
  for await (const buckets of bucketBatches(channelId, bucketOf(bound), direction, PAGE_BUCKET_BATCH)) {
    let next = 0;
    while (next < buckets.length) {
      const want = limit - found.length;
      const fetchCount = want + DELETED_SLACK;
      // The nearest bucket alone (a dense channel's page is usually all there), then up to `want` buckets at
      // once, in parallel: one round trip however many buckets the page spans.
      const round = buckets.slice(next, next === 0 ? 1 : next + Math.min(want, BUCKETS_PER_ROUND));
      const reads = await mapConcurrently(round, BUCKETS_PER_ROUND, async (bucket) => (await read(statement, [channelId, bucket, toLong(cursor), fetchCount])).rows);
      // Buckets are disjoint time windows, nearest first: their rows in bucket order are the timeline's order.
      // A bucket that filled its read may hold more rows than it gave, all nearer than the next bucket's:
      // nothing past it is used, and it is read again past the cursor.
      for (const rows of reads) {
        for (const row of rows) {
          const message = rowToMessage(channelId, row);
          cursor = message.id;
          if (!message.deleted && found.length < limit) found.push(message);
        }
        if (found.length >= limit) return found;
        if (rows.length >= fetchCount) break;
        next += 1;
      }
    }
  }
  return found;
}

/** The newest `limit` messages, or those just older than `before`; newest first. */
export function listBefore(channelId: string, before: bigint | undefined, limit: number): Promise<MessageRecord[]> {
  return walk(channelId, before ?? MAX_ID, limit, 'older');
}

/** The `limit` messages just newer than `after`, returned newest first like every page. */
export async function listAfter(channelId: string, after: bigint, limit: number): Promise<MessageRecord[]> {
  return (await walk(channelId, after, limit, 'newer')).reverse();
}

/**
 * Up to `limit` messages centred on `around`: the message itself when it exists, about half newer and the
 * rest older (more of one side when the other runs out). Newest first.
 */
export async function listAround(
  channelId: string,
  around: bigint,
  limit: number,
  center: MessageRecord | undefined,
): Promise<MessageRecord[]> {
  const self = center && !center.deleted ? [center] : [];
  const room = limit - self.length;
  const newerWanted = Math.floor(room / 2);
  const [newer, older] = await Promise.all([
    walk(channelId, around, room, 'newer'),
    walk(channelId, around, room, 'older'),
  ]);
  const newerTaken = Math.max(newerWanted, room - older.length);
  const newerPart = newer.slice(0, newerTaken);
  const olderPart = older.slice(0, room - newerPart.length);
  return [...newerPart.reverse(), ...self, ...olderPart];
}

/**
 * Live messages of one bucket newer than `after` (all of them when null), counted up to `limit`: newest
 * first, `LIMIT` the live rows still wanted, and when deleted rows filled part of a read, the next read goes
 * on below the last id seen, so deleted rows never end the count early. Reads ids and the deleted flag only,
 * at most `limit` + (deleted rows among them) rows.
 */
export async function countLiveInBucket(channelId: string, bucket: number, after: bigint | null, limit: number): Promise<number> {
  let live = 0;
  let below = MAX_ID;
  for (;;) {
    const want = limit - live;
    if (want <= 0) return live;
    const { rows } = await read(STATEMENTS.deletedFlagsBetweenInBucket, [channelId, bucket, toLong(after ?? -1n), toLong(below), want], { fetchSize: want });
    for (const row of rows) {
      if (row.get('deleted') !== true) live += 1;
      below = BigInt(String(row.get('message_id')));
    }
    if (rows.length < want) return live;
  }
}

/**
 * Counts live messages newer than `position` (every message when null), stopping at `cap`: walks the bucket
 * index upwards and reads only ids and the deleted flag, never whole buckets.
 */
export async function countLiveAfter(channelId: string, position: bigint | null, cap: number): Promise<{ count: number; capped: boolean }> {
  let count = 0;
  for await (const buckets of bucketBatches(channelId, position === null ? 0 : bucketOf(position), 'newer', COUNT_BUCKET_BATCH)) {
    for (const bucket of buckets) {
      count += await countLiveInBucket(channelId, bucket, position, cap + 1 - count);
      if (count > cap) return { count: cap, capped: true };
    }
  }
  return { count, capped: false };
}
