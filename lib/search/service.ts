/**
 * Full-text search within one channel: websearch syntax, each message matched in its own language,
 * ranked by ts_rank_cd, paged with a keyset cursor over (rank, message id). Results come from Scylla, the
 * source of truth, so an edit or delete not yet indexed never shows stale content.
 */
import type { Principal } from '../auth/principal.js';
import { authorizeChannel } from '../channels/access.js';
import { InvalidRequestError } from '../errors.js';
import { toMessageView, type MessageView } from '../messages/model.js';
import { getMessageRecord } from '../messages/store.js';
import { pgQuery } from '../postgres/pool.js';
import { SEARCH_CONFIGS } from './language.js';

/**
 * A message matches when the query, parsed in the message's own language, matches it. That per-row query
 * cannot use the GIN index, so the union of the query in every language (a superset of those matches, since
 * it contains each row's own query) narrows the rows through the index first.
 */
const ANY_LANGUAGE = SEARCH_CONFIGS.map((config) => `websearch_to_tsquery('${config}', $2)`).join(' || ');

interface Cursor {
  rank: number;
  id: string;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.rank, cursor.id])).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  try {
    const [rank, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (typeof rank === 'number' && Number.isFinite(rank) && typeof id === 'string' && /^\d{1,19}$/.test(id)) return { rank, id };
  } catch {
    /* fall through */
  }
  throw new InvalidRequestError('cursor is not one this API issued', 'invalid_cursor');
}

export async function searchMessages(
  principal: Principal,
  channelId: string,
  input: { q: string; limit: number; cursor?: string | undefined },
): Promise<{ messages: MessageView[]; next_cursor: string | null }> {
  const cursor = input.cursor ? decodeCursor(input.cursor) : undefined;
  await authorizeChannel(principal, channelId);
  // The rank is rounded to a float4 in the cursor comparison on both sides, so paging is stable.
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
    [channelId, input.q, input.limit + 1, cursor?.rank ?? null, cursor?.id ?? null],
  );
  const page = rows.slice(0, input.limit);
  const records = await Promise.all(page.map((row) => getMessageRecord(channelId, BigInt(row.message_id))));
  const messages = records.filter((record) => record && !record.deleted).map((record) => toMessageView(record!));
  const last = page[page.length - 1];
  return {
    messages,
    next_cursor: rows.length > input.limit && last ? encodeCursor({ rank: last.rank, id: last.message_id }) : null,
  };
}
