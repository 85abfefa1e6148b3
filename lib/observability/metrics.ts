/**
 * Metrics that alarms can see: CloudWatch embedded metric format (Powertools Metrics) on stdout, which
 * Lambda ships to CloudWatch with no API call on the request path. Every metric carries the `service` and
 * `route` dimensions; the stack alarms on them per route (see infra/cdk).
 *
 * Each route (and the reconciler) has its own Metrics object; the request pipeline runs an invocation inside
 * `withMetrics`, so domain code deep in `lib/` records a degraded mode with `countMetric` without knowing
 * which route it serves. The local server runs every route in one process, which is why the scope is an
 * AsyncLocalStorage and not a module variable.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { getConfig } from '../config.js';

export const SERVICE_NAME = 'messages';

/** Every metric name the service emits, in one place (the stack's alarms and dashboard use the same). */
export const METRIC = {
  serverError: 'ServerError',
  clientError: 'ClientError',
  rateLimited: 'RateLimited',
  latency: 'Latency',
  coldStart: 'ColdStart',
  storeUnavailable: 'StoreUnavailable',
  searchIndexQueued: 'SearchIndexQueued',
  workerLeaseReclaimed: 'WorkerLeaseReclaimed',
  workerIdsExhausted: 'WorkerIdsExhausted',
  searchSweepLag: 'SearchSweepLag',
  searchSweepRepaired: 'SearchSweepRepaired',
  rateLimitFailOpen: 'RateLimitFailOpen',
  reconcilerFailed: 'ReconcilerFailed',
  searchBacklogDepth: 'SearchBacklogDepth',
  searchBacklogApplied: 'SearchBacklogApplied',
  searchBacklogDeadLettered: 'SearchBacklogDeadLettered',
  channelActivityDeferred: 'ChannelActivityDeferred',
  channelPurgeStep: 'ChannelPurgeStep',
  channelPurged: 'ChannelPurged',
  channelPurgeRetried: 'ChannelPurgeRetried',
  changeRecorded: 'ChangeRecorded',
  changeLateWrite: 'ChangeLateWrite',
  changeParked: 'ChangeParked',
  changeLost: 'ChangeLost',
  changePublished: 'ChangePublished',
  changePublishFailed: 'ChangePublishFailed',
  pushDelivered: 'PushDelivered',
  pushGone: 'PushGone',
  pushFailed: 'PushFailed',
  /** A Telegram update acknowledged but not stored because its date cannot become an id (forged or corrupt). */
  telegramUpdateUnstorable: 'TelegramUpdateUnstorable',
  /** A read let through because Redis could not count it (the read limit fails open, like the write limit). */
  readRateLimitFailOpen: 'ReadRateLimitFailOpen',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

const byRoute = new Map<string, Metrics>();
const scope = new AsyncLocalStorage<Metrics>();

/** The Metrics object of one route (or background function), created once per process. */
export function metricsFor(route: string): Metrics {
  let metrics = byRoute.get(route);
  if (!metrics) {
    const config = getConfig().metrics;
    metrics = new Metrics({ namespace: config.namespace, serviceName: SERVICE_NAME, defaultDimensions: { route } });
    byRoute.set(route, metrics);
  }
  return metrics;
}

/** Runs `work` with `metrics` as the target of every `countMetric` it makes, however deep. */
export function withMetrics<T>(metrics: Metrics, work: () => T): T {
  return scope.run(metrics, work);
}

/** Runs `work` outside any route's metrics (work started by a request that outlives it, like the local fan-out). */
export function withoutMetrics<T>(work: () => T): T {
  return scope.exit(work);
}

/**
 * Counts one occurrence of `name` for the route being served. Outside any route (a script, a test calling
 * a use case directly) there is no one to report to and the count is dropped.
 */
export function countMetric(name: MetricName, value = 1): void {
  scope.getStore()?.addMetric(name, MetricUnit.Count, value);
}

export function recordMetric(metrics: Metrics, name: MetricName, unit: 'Count' | 'Milliseconds', value: number): void {
  metrics.addMetric(name, unit === 'Count' ? MetricUnit.Count : MetricUnit.Milliseconds, value);
}

/**
 * Writes the stored metrics as one EMF record (at the end of each invocation). With METRICS_ENABLED=false
 * (the local server's default) they are dropped instead, so a developer's terminal is not flooded.
 */
export function flushMetrics(metrics: Metrics): void {
  if (getConfig().metrics.enabled) metrics.publishStoredMetrics();
  else metrics.clearMetrics();
}
