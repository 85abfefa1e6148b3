/**
 * Keeps the search index in step with the messages. PostgreSQL being down must not fail a message write:
 * the work goes to the Scylla backlog instead and the reconciler applies it later.
 */
import { StoreUnavailableError } from '../errors.js';
import { log } from '../log.js';
import { countMetric, METRIC } from '../observability/metrics.js';
import type { MessageRecord } from '../messages/model.js';
import { deadLetterIndexing, enqueueIndexing, type IndexOperation } from './backlog.js';
import { indexMessage, unindexMessage } from './index-store.js';

/**
 * Applies the index write; if PostgreSQL is unavailable, queues it in the backlog for the reconciler. Any other
 * error is about the data (PostgreSQL refused it) and would fail as surely on every retry: that work is set
 * aside in the dead letters at once (SearchBacklogDeadLettered), not queued where it would block its shard.
 * Either way the message write that called this succeeds.
 */
async function applyOrQueue(channelId: string, messageId: bigint, operation: IndexOperation, apply: () => Promise<void>): Promise<void> {
  try {
    await apply();
  } catch (error) {
    const context = { channelId, messageId: messageId.toString(), operation };
    if (error instanceof StoreUnavailableError) {
      log().warn('search index unavailable; queued in the backlog', { ...context, error: error.detail });
      await enqueueIndexing(channelId, messageId, operation);
      countMetric(METRIC.searchIndexQueued);
      return;
    }
    const message = (error as Error).message;
    log().error('search index refused the work; set aside in the dead letters', { ...context, error: error as Error });
    await deadLetterIndexing({ channelId, messageId, operation }, message);
    countMetric(METRIC.searchBacklogDeadLettered);
  }
}

export function reindex(message: MessageRecord): Promise<void> {
  return applyOrQueue(message.channelId, message.id, 'index', () => indexMessage(message));
}

export function unindex(channelId: string, messageId: bigint): Promise<void> {
  return applyOrQueue(channelId, messageId, 'delete', () => unindexMessage(channelId, messageId));
}
