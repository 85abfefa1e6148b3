/**
 * The purge Lambda: SQS event source on the purge queue, one deleted channel per message. A purge that
 * stops near the timeout (checked after every page) sends a continuation message and succeeds, so progress
 * never uses up deliveries. A failed one is reported as a partial batch failure: it comes back after the
 * visibility timeout and resumes from its checkpoint; after `maxReceiveCount` failed deliveries it goes to the
 * dead-letter queue (alarmed), and the reconciler's sweep requests it again later.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { getConfig, requireStores } from '#lib/config.js';
import { log } from '#lib/log.js';
import { flushMetrics, metricsFor, withMetrics } from '#lib/observability/metrics.js';
import { parsePurgeRequest, purgeFromQueue } from '#lib/use-cases/channel-purge.js';
import { purgeChannelFunction } from './routes.js';

requireStores(getConfig(), purgeChannelFunction.stores);
const metrics = metricsFor(purgeChannelFunction.handler);
/** Stop this long before the Lambda timeout: the step in flight finishes and its checkpoint is written. */
const SAFETY_MS = 30_000;

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  log().addContext(context);
  return withMetrics(metrics, async () => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    try {
      for (const record of event.Records) {
        const request = parsePurgeRequest(record.body);
        if (!request) {
          log().error('channel purge: not a purge request; dropped', { messageId: record.messageId });
          continue;
        }
        try {
          // A paused purge has sent its continuation (a fresh message): this one is done.
          await purgeFromQueue(request.channel_id, { shouldStop: () => context.getRemainingTimeInMillis() < SAFETY_MS });
        } catch (error) {
          log().error('channel purge failed; the queue delivers it again', { channelId: request.channel_id, error: (error as Error).message });
          batchItemFailures.push({ itemIdentifier: record.messageId });
        }
      }
    } finally {
      flushMetrics(metrics);
    }
    return { batchItemFailures };
  });
}
