/**
 * Keeps the search index in step with the messages. PostgreSQL being down must not fail a message write:
 * the work goes to the Scylla backlog instead and the reconciler applies it later.
 */
import { StoreUnavailableError } from '../errors.js';
import { log } from '../log.js';
import { countMetric, METRIC } from '../observability/metrics.js';
import type { MessageRecord } from '../messages/model.js';
import { enqueueIndexing, type IndexOperation } from './backlog.js';
import { indexMessage, unindexMessage } from './index-store.js';

async function applyOrQueue(channelId: string, messageId: bigint, operation: IndexOperation, apply: () => Promise<void>): Promise<void> {
  try {
    await apply();
  } catch (error) {
    log().warn('search index unavailable; queued in the backlog', {
      channelId,
      messageId: messageId.toString(),
      operation,
      error: error instanceof StoreUnavailableError ? error.detail : (error as Error).message,
    });
    await enqueueIndexing(channelId, messageId, operation);
    countMetric(METRIC.searchIndexQueued);
  }
}

export function reindex(message: MessageRecord): Promise<void> {
  return applyOrQueue(message.channelId, message.id, 'index', () => indexMessage(message));
}

export function unindex(channelId: string, messageId: bigint): Promise<void> {
  return applyOrQueue(channelId, messageId, 'delete', () => unindexMessage(channelId, messageId));
}
