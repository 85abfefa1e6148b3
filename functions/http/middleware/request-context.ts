/**
 * First in, last out: names the request in every log line, and at the end records what became of it
 * (latency, server and client errors, rate limiting, cold start) as EMF metrics with the route dimension.
 * Its `after`/`onError` run after the error mapping, so they see the final status whatever was thrown.
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { log } from '#lib/log.js';
import { flushMetrics, METRIC, recordMetric } from '#lib/observability/metrics.js';
import { beginState, stateOf, type PipelineMiddleware, type PipelineRequest } from './types.js';

export function requestContext(route: string, metrics: Metrics): PipelineMiddleware {
  let coldStart = true;
  const finish = (request: PipelineRequest) => {
    const status = request.response?.statusCode ?? 500;
    recordMetric(metrics, METRIC.latency, 'Milliseconds', performance.now() - stateOf(request).startedAt);
    if (status >= 500) recordMetric(metrics, METRIC.serverError, 'Count', 1);
    else if (status >= 400) recordMetric(metrics, METRIC.clientError, 'Count', 1);
    if (status === 429) recordMetric(metrics, METRIC.rateLimited, 'Count', 1);
    if (coldStart) {
      recordMetric(metrics, METRIC.coldStart, 'Count', 1);
      coldStart = false;
    }
    flushMetrics(metrics);
    log().resetKeys();
  };
  return {
    before: (request) => {
      beginState(request);
      log().addContext(request.context);
      log().appendKeys({ route, requestId: request.event.requestContext?.requestId });
    },
    after: finish,
    onError: finish,
  };
}
