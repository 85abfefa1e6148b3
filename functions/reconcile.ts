/**
 * The scheduled reconciler (EventBridge, reserved concurrency 1). Its metrics carry route=reconcile; a run
 * that throws outright (the lock store down) is counted and rethrown, so Lambda's Errors metric sees it too.
 */
import type { Context } from 'aws-lambda';
import { getConfig, requireStores } from '#lib/config.js';
import { log } from '#lib/log.js';
import { countMetric, flushMetrics, METRIC, metricsFor, withMetrics } from '#lib/observability/metrics.js';
import { settlePublishes } from '#lib/use-cases/publish.js';
import { runReconciler, type ReconcileReport } from '#lib/use-cases/reconciler/run.js';
import { reconcileFunction } from './routes.js';

requireStores(getConfig(), reconcileFunction.stores);
const metrics = metricsFor(reconcileFunction.handler);

export async function handler(_event: unknown, context: Context): Promise<ReconcileReport> {
  log().addContext(context);
  return withMetrics(metrics, async () => {
    try {
      const remaining = context.getRemainingTimeInMillis();
      return await runReconciler(remaining, Math.ceil(remaining / 1000));
    } catch (error) {
      countMetric(METRIC.reconcilerFailed);
      throw error;
    } finally {
      await settlePublishes();
      flushMetrics(metrics);
    }
  });
}
