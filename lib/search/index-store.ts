/**
 * The PostgreSQL search index (message_search): one row per live message, written on create and edit,
 * removed on delete, and queried within one channel with websearch syntax, each message matched in its own
 * language, ranked by ts_rank_cd, paged with a keyset over (rank, message id).
 */
import { snowflakeTime } from '../ids/snowflake.js';
import type { MessageRecord } from '../messages/model.js';
import { pgQuery } from '../postgres/pool.js';
import { detectSearchConfig, SEARCH_CONFIGS } from './language.js';

export async function indexMessage(message: MessageRecord): Promise<void> {
  await pgQuery(
    `INSERT INTO message_search (chat_id, message_id, author_id, content, search_config, created_at)
     VALUES ($1, $2, $3, $4, $5::regconfig, $6)
     ON CONFLICT (chat_id, message_id)
     DO UPDATE SET content = EXCLUDED.content, search_config = EXCLUDED.search_config`,
    [
      message.channelId,
      message.id.toString(),
      message.authorId,
      message.content,
      detectSearchConfig(message.content),
      new Date(snowflakeTime(message.id)),
    ],
  );
}

export async function unindexMessage(channelId: string, messageId: bigint): Promise<void> {
  await pgQuery('DELETE FROM message_search WHERE chat_id = $1 AND message_id = $2', [channelId, messageId.toString()]);
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
