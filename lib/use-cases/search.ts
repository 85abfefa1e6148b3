/**
 * Full-text search within one channel (see search/index-store.ts for the matching and ranking), paged with
 * an opaque cursor. Results come from Scylla, the source of truth, so an edit or delete not yet indexed never
 * shows stale content.
 */
import type { Principal } from '../auth/principal.js';
import { authorizeChannel } from '../channels/access.js';
import { InvalidRequestError } from '../errors.js';
import { parseSnowflake } from '../ids/snowflake.js';
import type { MessageRecord, MessageView } from '../messages/model.js';
import { getMessageRecord } from '../messages/store.js';
import { searchIndex, type RankedMessageId } from '../search/index-store.js';
import { viewsOf } from './messages.js';

function encodeCursor(cursor: RankedMessageId): string {
  return Buffer.from(JSON.stringify([cursor.rank, cursor.id])).toString('base64url');
}

/*
 * The cursor's values go to PostgreSQL as `float4` and `bigint`: a rank or id outside those types would fail
 * the query there (22003, a 500), so only values the index itself can return are accepted. ts_rank_cd is never
 * negative; a float4 holds at most ~3.4e38, and a rank below the smallest normal float4 (other than 0) is
 * refused by PostgreSQL's float4 input as an underflow. Message ids are positive signed 64-bit integers.
 */
const FLOAT4_MAX = 3.4028234663852886e38;
const FLOAT4_MIN_NORMAL = 1.1754943508222875e-38;
const isFloat4Rank = (rank: unknown): rank is number =>
  typeof rank === 'number' && Number.isFinite(rank) && (rank === 0 || (rank >= FLOAT4_MIN_NORMAL && rank <= FLOAT4_MAX));

function decodeCursor(text: string): RankedMessageId {
  try {
    const [rank, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (isFloat4Rank(rank) && typeof id === 'string' && parseSnowflake(id) !== undefined) return { rank, id };
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
  // One more than the page, to know whether another page follows.
  const hits = await searchIndex(channelId, input.q, input.limit + 1, cursor);
  const page = hits.slice(0, input.limit);
  const records = await Promise.all(page.map((hit) => getMessageRecord(channelId, BigInt(hit.id))));
  const messages = await viewsOf(
    channelId,
    records.filter((record): record is MessageRecord => record !== undefined && !record.deleted),
  );
  const last = page[page.length - 1];
  return {
    messages,
    next_cursor: hits.length > input.limit && last ? encodeCursor(last) : null,
  };
}
