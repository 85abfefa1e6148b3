/**
 * channel_changes: the append-only record of a channel's changes (see cql/scylla/0008_channel_changes.cql).
 * Writers get the insert as a statement, to write it in the same batch as the state change it records; the
 * feed reads one partition (channel, day, audience) per statement, at the write consistency, so that every
 * acknowledged change is visible to the read (a quorum write and a quorum read share a replica).
 */
import cassandra from 'cassandra-driver';
import { writeConsistency } from '../scylla/client.js';
import { read, type Statement } from '../scylla/execute.js';
import { toLong } from '../scylla/values.js';
import { changeDay, type ChangeRecord, type ChangeType } from './model.js';

const INSERT = 'INSERT INTO channel_changes (channel_id, day, audience, change_id, type, body) VALUES (?, ?, ?, ?, ?, ?)';
const PAGE = 'SELECT change_id, type, body FROM channel_changes WHERE channel_id = ? AND day = ? AND audience = ? AND change_id > ? AND change_id <= ? LIMIT ?';

export function changeStatement(change: ChangeRecord): Statement {
  return {
    query: INSERT,
    params: [change.channelId, changeDay(change.id), change.audience, toLong(change.id), change.type, JSON.stringify(change.body)],
  };
}

/**
 * Up to `limit` changes of one partition with `after < id <= upTo`, oldest first. Paging off: `limit` bounds
 * the rows (at most a page plus one).
 */
export async function changesInPartition(
  channelId: string,
  day: number,
  audience: string,
  after: bigint,
  upTo: bigint,
  limit: number,
): Promise<ChangeRecord[]> {
  const result = await read(PAGE, [channelId, day, audience, toLong(after), toLong(upTo), limit], {
    consistency: writeConsistency(),
    fetchSize: 0,
  });
  return result.rows.map((row) => ({
    id: BigInt((row.get('change_id') as cassandra.types.Long).toString()),
    channelId,
    audience,
    type: row.get('type') as ChangeType,
    body: JSON.parse(row.get('body') as string) as Record<string, unknown>,
  }));
}
