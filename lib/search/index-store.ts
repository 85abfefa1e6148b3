/**
 * The PostgreSQL search index (message_search): one row per message, written from the message's current state
 * with that state's version (a deleted message keeps a content-less marker row), and queried within one channel
 * with websearch syntax, each message matched in its own language, ranked by ts_rank_cd, paged with a keyset
 * over (rank, message id).
 */
import { snowflakeTime } from '../ids/snowflake.js';
import type { MessageRecord } from '../messages/model.js';
import { pgQuery } from '../postgres/pool.js';
import { detectSearchConfig, SEARCH_CONFIGS } from './language.js';

/**
 * Writes the row of one message state, unless the row already holds a state at least as new: of two
 * applications of one message that race (the indexer, the sweep, a retry), the newer state stays whichever
 * lands last. An equal version is the same state: nothing is rewritten.
 */
async function upsertState(
  message: Pick<MessageRecord, 'channelId' | 'id' | 'authorId' | 'content'>,
  version: bigint,
  deleted: boolean,
): Promise<void> {
  await pgQuery(
    `INSERT INTO message_search (chat_id, message_id, author_id, content, search_config, created_at, state_version, deleted)
     VALUES ($1, $2, $3, $4, $5::regconfig, $6, $7, $8)
     ON CONFLICT (chat_id, message_id)
     DO UPDATE SET content = EXCLUDED.content, search_config = EXCLUDED.search_config, state_version = EXCLUDED.state_version, deleted = EXCLUDED.deleted
     WHERE message_search.state_version < EXCLUDED.state_version`,
    [
      message.channelId,
      message.id.toString(),
      message.authorId,
      message.content,
      detectSearchConfig(message.content),
      new Date(snowflakeTime(message.id)),
      version.toString(),
      deleted,
    ],
  );
}

/** A live message's state at `version` (its content's Scylla write time). */
export function indexMessageState(message: MessageRecord, version: bigint): Promise<void> {
  return upsertState(message, version, false);
}

/**
 * A deleted message's state at `version`: a marker row with no content (it matches nothing and costs the GIN
 * index nothing) that keeps the version, so an older application arriving late cannot bring the message back.
 */
export function markMessageDeleted(message: Pick<MessageRecord, 'channelId' | 'id' | 'authorId'>, version: bigint): Promise<void> {
  return upsertState({ ...message, content: '' }, version, true);
}

/** The row of a message that no longer exists at all (its channel was purged): nothing can bring it back. */
export async function removeSearchRow(channelId: string, messageId: bigint): Promise<void> {
  await pgQuery('DELETE FROM message_search WHERE chat_id = $1 AND message_id = $2', [channelId, messageId.toString()]);
}

export const versionKey = (channelId: string, messageId: bigint) => `${channelId}/${messageId}`;

/** The state versions the index holds for these messages (one query), by versionKey; absent rows are absent. */
export async function indexedVersions(messages: readonly { channelId: string; messageId: bigint }[]): Promise<Map<string, bigint>> {
  const versions = new Map<string, bigint>();
  if (messages.length === 0) return versions;
  const { rows } = await pgQuery<{ chat_id: string; message_id: string; state_version: string }>(
    `SELECT m.chat_id::text, m.message_id::text, m.state_version::text
       FROM unnest($1::uuid[], $2::bigint[]) AS wanted (chat_id, message_id)
       JOIN message_search m ON m.chat_id = wanted.chat_id AND m.message_id = wanted.message_id`,
    [messages.map((entry) => entry.channelId), messages.map((entry) => entry.messageId.toString())],
  );
  for (const row of rows) versions.set(versionKey(row.chat_id, BigInt(row.message_id)), BigInt(row.state_version));
  return versions;
}

/**
 * A message matches when the query, parsed in the message's own language, matches it. That per-row query
 * cannot use the GIN index, so the union of the query in every language (a superset of those matches, since
 * it contains each row's own query) narrows the rows through the index first.
 */
const ANY_LANGUAGE = SEARCH_CONFIGS.map((config) => `websearch_to_tsquery('${config}', $2)`).join(' || ');

/** A match: the message id (decimal) and its rank. The last one a page showed is where the next page starts. */
export interface RankedMessageId {
  rank: number;
  id: string;
}

/**
 * Up to `limit` matching message ids in one channel, best first, after `after` when given. The rank is
 * rounded to a float4 in the keyset comparison on both sides, so paging is stable.
 */
export async function searchIndex(
  channelId: string,
  query: string,
  limit: number,
  after: RankedMessageId | undefined,
): Promise<RankedMessageId[]> {
  const { rows } = await pgQuery<{ message_id: string; rank: number }>(
    `WITH q AS (SELECT (${ANY_LANGUAGE}) AS any_language)
     SELECT message_id::text, rank FROM (
       SELECT m.message_id, ts_rank_cd(m.document, websearch_to_tsquery(m.search_config, $2))::float4 AS rank
         FROM message_search m, q
        WHERE m.chat_id = $1
          AND NOT m.deleted
          AND m.document @@ q.any_language
          AND m.document @@ websearch_to_tsquery(m.search_config, $2)
     ) ranked
     WHERE $4::float4 IS NULL OR (rank, message_id) < ($4::float4, $5::bigint)
     ORDER BY rank DESC, message_id DESC
     LIMIT $3`,
    [channelId, query, limit, after?.rank ?? null, after?.id ?? null],
  );
  return rows.map((row) => ({ rank: row.rank, id: row.message_id }));
}
