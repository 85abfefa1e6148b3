/**
 * Applies a message's search state to the index. A message write only adds its row to the search outbox
 * (outbox.ts) in its own batch; the indexer (lib/use-cases/search-indexing.ts) then reads the message's CURRENT
 * state with its version and applies it here: at once from the changes bus, and again from the reconciler's
 * sweep for whatever that missed. PostgreSQL keeps the newest version it was given, so repeated, late or
 * reordered applications are harmless.
 */
import cassandra from 'cassandra-driver';
import { snowflakeTime } from '../ids/snowflake.js';
import { log } from '../log.js';
import { countMetric, METRIC } from '../observability/metrics.js';
import type { MessageRecord } from '../messages/model.js';
import { deadLetterIndexing, type IndexOperation } from './backlog.js';
import { indexMessageState, markMessageDeleted, removeSearchRow } from './index-store.js';

/** A message as the indexer reads it: the row, and WRITETIME(content) in µs (0 when there is no content cell). */
export interface MessageState {
  message: MessageRecord;
  version: bigint;
}

export type Applied = 'indexed' | 'deleted' | 'absent';

/**
 * Applies a message's state: indexed when live, a marker when deleted, no row when the message is gone
 * altogether (undefined: its channel was purged). Throws what PostgreSQL throws.
 */
export async function applySearchState(channelId: string, messageId: bigint, state: MessageState | undefined): Promise<Applied> {
  if (!state) {
    await removeSearchRow(channelId, messageId);
    return 'absent';
  }
  if (state.message.deleted) {
    await markMessageDeleted(state.message, state.version);
    return 'deleted';
  }
  await indexMessageState(state.message, state.version);
  return 'indexed';
}

/**
 * The dead letter's id for a message: derived from the message id, so setting the same message aside again (the
 * indexer, then the sweep, then its next edit) rewrites one row instead of adding one each time.
 */
function deadLetterId(messageId: bigint): cassandra.types.TimeUuid {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt.asUintN(64, messageId));
  return cassandra.types.TimeUuid.fromDate(new Date(snowflakeTime(messageId)), 0, bytes.subarray(2, 8), bytes.subarray(0, 2));
}

/**
 * Sets a message's indexing aside in search_index_dead_letters, logged and counted (SearchBacklogDeadLettered,
 * alarmed): PostgreSQL refused its data, which would fail as surely on every retry.
 */
export async function setAsideIndexing(channelId: string, messageId: bigint, operation: IndexOperation, error: Error): Promise<void> {
  log().error('search index refused the work; set aside in the dead letters', { channelId, messageId: messageId.toString(), operation, error });
  await deadLetterIndexing({ channelId, messageId, operation, entryId: deadLetterId(messageId) }, error.message);
  countMetric(METRIC.searchBacklogDeadLettered);
}


