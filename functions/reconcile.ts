/** The scheduled reconciler (EventBridge, reserved concurrency 1). */
import type { Context } from 'aws-lambda';
import { getConfig, requireStores } from '#lib/config.js';
import { log } from '#lib/log.js';
import { runReconciler, type ReconcileReport } from '#lib/reconciler/run.js';

requireStores(getConfig(), ['scylla', 'postgres']);

export async function handler(_event: unknown, context: Context): Promise<ReconcileReport> {
  log().addContext(context);
  const remaining = context.getRemainingTimeInMillis();
  return runReconciler(remaining, Math.ceil(remaining / 1000));
}
