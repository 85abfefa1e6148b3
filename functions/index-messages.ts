/**
 * The search indexer: an EventBridge rule on the changes bus invokes it with one message change (detail-type the
 * change type, detail the change as the feed shows it). It applies the message's current state to the search
 * index and, for a new message, moves the channel's last activity. A store outage is not an error here (the
 * reconciler's sweep of the search outbox applies the message later); anything else throws, so Lambda retries
 * it and then leaves it in the dead-letter queue (alarmed).
 */
import type { Context, EventBridgeEvent } from 'aws-lambda';
import type { ChangeView } from '#lib/changes/model.js';
import { getConfig, requireStores } from '#lib/config.js';
import { log } from '#lib/log.js';
import { flushMetrics, metricsFor, withMetrics } from '#lib/observability/metrics.js';
import { indexChange, type IndexChangeReport } from '#lib/use-cases/search-indexing.js';
import { indexMessagesFunction } from './routes.js';

requireStores(getConfig(), indexMessagesFunction.stores);
const metrics = metricsFor(indexMessagesFunction.handler);

export async function handler(event: EventBridgeEvent<string, ChangeView>, context: Context): Promise<IndexChangeReport> {
  log().addContext(context);
  return withMetrics(metrics, async () => {
    try {
      return await indexChange(event.detail);
    } finally {
      flushMetrics(metrics);
    }
  });
}
