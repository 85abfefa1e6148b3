/**
 * The purge Lambda: SQS event source on the purge queue, one deleted channel per message. Reports partial
 * batch failures: a purge that stopped near the timeout, or failed, comes back after the visibility timeout
 * and resumes from its checkpoint; after `maxReceiveCount` deliveries it goes to the dead-letter queue (alarmed).
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
          const outcome = await purgeFromQueue(request.channel_id, { shouldStop: () => context.getRemainingTimeInMillis() < SAFETY_MS });
          if (outcome === 'paused') batchItemFailures.push({ itemIdentifier: record.messageId });
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
