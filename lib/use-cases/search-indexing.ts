/**
 * The search indexer: applies a message's CURRENT search state, read from Scylla with its version, to the
 * PostgreSQL index (lib/search/indexer.ts keeps the newest version). The fast path runs it for every message
 * change on the changes bus (functions/index-messages.ts; locally the in-process sink) and bumps the channel's
 * activity for a new message; the reconciler's sweep runs it for what the fast path missed
 * (reconciler/search-sweep.ts). No message write waits for either.
 */
import { recordChannelActivity } from '../channels/activity.js';
import type { ChangeView } from '../changes/model.js';
import { StoreUnavailableError } from '../errors.js';
import { parseSnowflake } from '../ids/snowflake.js';
import { log } from '../log.js';
import type { MessageView } from '../messages/model.js';
import { getMessageState } from '../messages/store.js';
import { countMetric, METRIC } from '../observability/metrics.js';
import type { IndexOperation } from '../search/backlog.js';
import { applySearchState, setAsideIndexing, type Applied } from '../search/indexer.js';

/** Reads the message's current state and applies it. Throws what the stores throw. */
export async function applyMessageSearchState(channelId: string, messageId: bigint): Promise<Applied> {
  return applySearchState(channelId, messageId, await getMessageState(channelId, messageId));
}

export type IndexOutcome = Applied | 'deferred' | 'dead-lettered';

/**
 * Applies the message's search state and never throws for what a retry cannot help now: a store outage leaves
 * the work to the sweep (logged, counted as SearchIndexQueued); a refusal of the data itself sets the message
 * aside in the dead letters.
 */
export async function indexMessageChange(channelId: string, messageId: bigint, operation: IndexOperation): Promise<IndexOutcome> {
  try {
    return await applyMessageSearchState(channelId, messageId);
  } catch (error) {
    if (error instanceof StoreUnavailableError) {
      log().warn('search index not updated (a store is unavailable); the reconciler sweep applies it later', {
        channelId,
        messageId: messageId.toString(),
        operation,
        error: error.detail,
      });
      countMetric(METRIC.searchIndexQueued);
      return 'deferred';
    }
    await setAsideIndexing(channelId, messageId, operation, error as Error);
    return 'dead-lettered';
  }
}

/** The message a change is about and what it did to it; undefined for changes search does not follow. */
function messageOf(change: ChangeView): { messageId: bigint; operation: IndexOperation; created: boolean } | undefined {
  const id =
    change.type === 'message.created' || change.type === 'message.updated'
      ? (change.message as MessageView | undefined)?.id
      : change.type === 'message.deleted'
        ? (change.message_id as string | undefined)
        : undefined;
  const messageId = typeof id === 'string' ? parseSnowflake(id) : undefined;
  if (messageId === undefined) return undefined;
  return { messageId, operation: change.type === 'message.deleted' ? 'delete' : 'index', created: change.type === 'message.created' };
}

export interface IndexChangeReport {
  outcome: IndexOutcome | 'ignored';
}

/**
 * The fast path for one change of the bus: a message change is applied to the search index, and a new message
 * also moves its channel's last activity (a failure there is repaired by the next listing). Anything else is
 * ignored (the bus rule only sends message changes; the local sink sends everything).
 */
export async function indexChange(change: ChangeView): Promise<IndexChangeReport> {
  const target = messageOf(change);
  if (!target) return { outcome: 'ignored' };
  const [outcome] = await Promise.all([
    indexMessageChange(change.channel_id, target.messageId, target.operation),
    target.created ? recordChannelActivity(change.channel_id, target.messageId) : undefined,
  ]);
  return { outcome };
}
