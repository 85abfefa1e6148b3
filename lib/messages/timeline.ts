/**
 * Reading a channel's timeline across 10-day buckets. The bucket index (channel_buckets) names the buckets
 * that hold messages, so a page costs one index query plus one query per non-empty bucket it draws from,
 * however far apart those buckets are: empty windows are never probed.
 */
import { bucketOf } from '../ids/snowflake.js';
import { read } from '../scylla/execute.js';
import type { MessageRecord } from './model.js';
import { rowToMessage, STATEMENTS, toLong } from './store.js';

const MAX_ID = (1n << 63n) - 1n;
/** Buckets fetched from the index per query; a page rarely needs more. */
const BUCKET_BATCH = 8;
/** Extra rows asked for per bucket query, so a few deleted messages do not cost another round trip. */
const DELETED_SLACK = 5;

type Direction = 'older' | 'newer';

/**
 * Up to `limit` live messages strictly older (or newer) than `bound`, nearest first. Walks the bucket
 * index in `direction`, reading each listed bucket until the page is full or history ends.
 */
async function walk(channelId: string, bound: bigint, limit: number, direction: Direction): Promise<MessageRecord[]> {
  const found: MessageRecord[] = [];
  let fromBucket = bucketOf(bound);
  let cursor = bound;
  for (;;) {
    const index = await read(direction === 'older' ? STATEMENTS.bucketsAtOrBelow : STATEMENTS.bucketsAtOrAbove, [
      channelId,
      fromBucket,
      BUCKET_BATCH,
    ]);
    const buckets = index.rows.map((row) => row.get('bucket') as number);
    for (const bucket of buckets) {
      for (;;) {
        const want = limit - found.length;
        const fetchCount = want + DELETED_SLACK;
        const rows = (
          await read(direction === 'older' ? STATEMENTS.olderInBucket : STATEMENTS.newerInBucket, [
            channelId,
            bucket,
            toLong(cursor),
            fetchCount,
          ])
        ).rows;
        for (const row of rows) {
          const message = rowToMessage(channelId, row);
          cursor = message.id;
          if (!message.deleted && found.length < limit) found.push(message);
        }
        if (found.length >= limit) return found;
        if (rows.length < fetchCount) break;
      }
      // The next bucket's ids are all beyond this one's, so the cursor can stay where it is.
    }
    if (buckets.length < BUCKET_BATCH) return found;
    fromBucket = direction === 'older' ? buckets[buckets.length - 1]! - 1 : buckets[buckets.length - 1]! + 1;
  }
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
