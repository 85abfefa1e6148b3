/**
 * The fan-out: an EventBridge rule on the changes bus invokes it with one change (detail-type the change type,
 * detail the change as the feed shows it); it posts the change to every connection listening to its channel.
 */
import type { Context, EventBridgeEvent } from 'aws-lambda';
import type { ChangeView } from '#lib/changes/model.js';
import { getConfig, requireStores } from '#lib/config.js';
import { log } from '#lib/log.js';
import { flushMetrics, metricsFor, withMetrics } from '#lib/observability/metrics.js';
import { fanOut, type FanOutReport } from '#lib/use-cases/push.js';
import { managementApiPoster } from './push/management-api.js';
import { fanOutFunction } from './routes.js';

requireStores(getConfig(), fanOutFunction.stores);
const metrics = metricsFor(fanOutFunction.handler);
const endpoint = getConfig().push.managementEndpoint;
if (!endpoint) throw new Error('WS_MANAGEMENT_ENDPOINT must be set for the fan-out');
const poster = managementApiPoster(endpoint);

export async function handler(event: EventBridgeEvent<string, ChangeView>, context: Context): Promise<FanOutReport> {
  log().addContext(context);
  return withMetrics(metrics, async () => {
    try {
      return await fanOut(event.detail, poster, fanOutFunction.concurrency);
    } finally {
      flushMetrics(metrics);
    }
  });
}
