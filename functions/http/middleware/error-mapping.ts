/**
 * The one mapping from errors to the API's `{"error": {"code", "message"}}` shape. Domain errors carry their
 * status; anything else is a bug or an unexpected store answer: it is logged with its stack and answered
 * with a 500 whose details never reach the client.
 *
 * Why answer the 500 ourselves instead of rethrowing: API Gateway turns a thrown error into its own
 * `{"message":"Internal Server Error"}` body, which breaks the API's error contract, and a handled 500 is
 * invisible to Lambda's `Errors` metric. So the request-context middleware counts every 5xx as the
 * `ServerError` EMF metric, and the stack alarms on that metric per route.
 */
import { AppError, StoreUnavailableError } from '#lib/errors.js';
import { log } from '#lib/log.js';
import { countMetric, METRIC } from '#lib/observability/metrics.js';
import { json } from '../responses.js';
import type { HttpResult, PipelineMiddleware } from './types.js';

export function errorResponse(error: unknown): HttpResult {
  if (error instanceof AppError) {
    if (error instanceof StoreUnavailableError) {
      log().warn('store unavailable', { store: error.store, detail: error.detail });
      countMetric(METRIC.storeUnavailable);
    }
    return json(error.status, { error: { code: error.code, message: error.message } }, error.headers);
  }
  log().error('unhandled error', { error: error as Error });
  return json(500, { error: { code: 'internal', message: 'Something went wrong on our side' } });
}

export function errorMapping(): PipelineMiddleware {
  return {
    // Sets the response without returning it, so the request-context middleware's onError still runs.
    onError: (request) => {
      request.response = errorResponse(request.error);
    },
  };
}
