/**
 * Read positions. The position cell is written with the message's own time as its write timestamp, so the
 * store keeps the newest position whatever order concurrent devices' writes arrive in: no read-modify-write,
 * no lightweight transaction, and it can never move backwards.
 */
import cassandra from 'cassandra-driver';
import type { Principal } from '../auth/principal.js';
import { authorizeChannel } from '../channels/access.js';
import { writeTimestampOf } from '../channels/metadata-store.js';
import { getMessageRecord, STATEMENTS, toLong } from '../messages/store.js';
import { NotFoundError } from '../errors.js';
import { bucketOf } from '../ids/snowflake.js';
import { read, readPages, write } from '../scylla/execute.js';
import { writeConsistency } from '../scylla/client.js';

export const UNREAD_CAP = 1000;
const BUCKET_BATCH = 16;

async function storedPosition(channelId: string, userId: string, consistency?: number): Promise<bigint | null> {
  const result = await read(
    'SELECT message_id FROM message_read_positions WHERE channel_id = ? AND user_id = ?',
    [channelId, userId],
    consistency === undefined ? {} : { consistency },
  );
  const value = result.first()?.get('message_id') as cassandra.types.Long | null | undefined;
  return value ? BigInt(value.toString()) : null;
}

export async function setReadPosition(principal: Principal, channelId: string, messageId: bigint): Promise<{ message_id: string }> {
  await authorizeChannel(principal, channelId);
  const message = await getMessageRecord(channelId, messageId);
  if (!message) throw new NotFoundError('Message not found');
  await write('UPDATE message_read_positions USING TIMESTAMP ? SET message_id = ? WHERE channel_id = ? AND user_id = ?', [
    writeTimestampOf(messageId),
    toLong(messageId),
    channelId,
    principal.userId,
  ]);
  // Read back at the write consistency so the answer includes this write (and any newer one).
  const stored = await storedPosition(channelId, principal.userId, writeConsistency());
  return { message_id: (stored ?? messageId).toString() };
}

/**
 * Counts live messages after `position`, stopping at the cap: walks the bucket index upwards and reads only
 * ids and the deleted flag, at most cap + 1 rows in all, never whole buckets.
 */
async function countAfter(channelId: string, position: bigint | null): Promise<{ count: number; capped: boolean }> {
  let count = 0;
  let fromBucket = position === null ? 0 : bucketOf(position);
  const after = toLong(position ?? 0n);
  for (;;) {
    const buckets = (await read(STATEMENTS.bucketsAtOrAbove, [channelId, fromBucket, BUCKET_BATCH])).rows.map((row) => row.get('bucket') as number);
    for (const bucket of buckets) {
      // The LIMIT is fixed for the whole paged read of a bucket: paging state belongs to one exact statement.
      const pages = readPages(
        'SELECT deleted FROM messages WHERE channel_id = ? AND bucket = ? AND message_id > ? LIMIT ?',
        [channelId, bucket, after, UNREAD_CAP + 1 - count],
        500,
      );
      for await (const rows of pages) {
        for (const row of rows) if (row.get('deleted') !== true) count += 1;
        if (count > UNREAD_CAP) return { count: UNREAD_CAP, capped: true };
      }
    }
    if (buckets.length < BUCKET_BATCH) return { count, capped: false };
    fromBucket = buckets[buckets.length - 1]! + 1;
  }
}

export async function getReadPosition(
  principal: Principal,
  channelId: string,
): Promise<{ message_id: string | null; unread_count: number; unread_capped: boolean }> {
  await authorizeChannel(principal, channelId);
  const position = await storedPosition(channelId, principal.userId);
  const { count, capped } = await countAfter(channelId, position);
  return { message_id: position === null ? null : position.toString(), unread_count: count, unread_capped: capped };
}
