/**
 * Which of several users are members of a channel, in one query: PostgreSQL's participants, or Scylla's
 * replica of them (one partition, a clustering-key IN) while PostgreSQL is unreachable. Used to check a
 * message's mentions without one member check per mentioned user.
 */
import { StoreUnavailableError } from '../errors.js';
import { pgQuery } from '../postgres/pool.js';
import { read } from '../scylla/execute.js';

export async function membersAmong(channelId: string, userIds: readonly string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  try {
    const { rows } = await pgQuery<{ user_id: string }>('SELECT user_id FROM participants WHERE chat_id = $1 AND user_id = ANY($2::uuid[])', [
      channelId,
      [...userIds],
    ]);
    return new Set(rows.map((row) => row.user_id));
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    const result = await read('SELECT user_id FROM channel_members WHERE channel_id = ? AND user_id IN ?', [channelId, [...userIds]], {
      fetchSize: 0,
    });
    return new Set(result.rows.map((row) => String(row.get('user_id'))));
  }
}
