/**
 * Alarms and the dashboard over what the functions emit (Powertools Metrics, EMF, in the stack's metrics
 * namespace with dimensions {service, route}) and what AWS emits for the API, the Lambdas and the queues.
 *
 * Not a construct of its own: everything is created directly in the stack, so the alarm topic, its key and
 * the alarms that predate this file keep their logical ids (a replaced topic would drop its subscriptions).
 */
import { Duration, type Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { changeRecorders, fanOutFunction, indexMessagesFunction, purgeChannelFunction } from '../../functions/routes.js';
import { rateLimitOf, storesOf, type Route } from '../../functions/routes.js';
import type { OperationFunction } from './operation-function.js';
import { METRIC } from '../../lib/observability/metrics.js';
import { SWEEP_GRACE_MS } from '../../lib/use-cases/reconciler/search-sweep.js';

const PERIOD = Duration.minutes(5);
/** The `route` dimension of what the reconciler emits. */
export const RECONCILE_ROUTE = 'reconcile';

/** The `route` dimension of what the channel purge emits. */
export const PURGE_ROUTE = purgeChannelFunction.handler;
/** The `route` dimension of what the WebSocket fan-out emits. */
export const FAN_OUT_ROUTE = fanOutFunction.handler;
/** The `route` dimension of what the search indexer emits. */
export const INDEX_ROUTE = indexMessagesFunction.handler;
/**
 * The search sweep's lag that alarms: normally it stays under the grace plus one reconciler schedule (~7 min);
 * past 15 minutes for two periods, messages the indexer missed are not being made searchable.
 */
export const SEARCH_SWEEP_LAG_ALARM_SECONDS = 900;
/** CloudWatch alarms on metric math take at most 10 metrics: one Throttles alarm per this many functions. */
export const THROTTLE_ALARM_GROUP = 10;

export interface ObservabilityProps {
  alarmEmail?: string;
  metricsNamespace: string;
  /** The `service` dimension of every metric the functions emit. */
  service: string;
}

export interface AlarmOptions {
  metric: cloudwatch.IMetric;
  threshold: number;
  description: string;
  comparison?: cloudwatch.ComparisonOperator;
  evaluationPeriods?: number;
  missing?: cloudwatch.TreatMissingData;
  /** false: the alarm has no action of its own (a composite alarm notifies for it). */
  notify?: boolean;
}

export interface Watched {
  api: HttpApi;
  routes: readonly Route[];
  /** Every function of the stack, by handler. */
  functions: ReadonlyMap<string, OperationFunction>;
  reconcile: OperationFunction;
  /** The purge of deleted channels: its function and its queue. */
  purge: { function: OperationFunction; queue: sqs.IQueue };
  /**
   * Real-time push: the fan-out the changes bus invokes. Like every function it has its Errors alarm; its
   * dead-letter queue is alarmed where it is made (addDeadLetterQueue). Here: its row on the dashboard.
   */
  push?: { fanOut: OperationFunction };
}

export class Observability {
  readonly alarmTopic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly deadLetterQueues: sqs.Queue[] = [];
  private readonly action: cloudwatchActions.SnsAction;
  /** Filled by addDeadLetterQueue, whenever it is called: the dashboard renders it at synth. */
  private readonly deadLetterWidget = new cloudwatch.GraphWidget({
    title: 'Dead-letter queues: messages waiting',
    width: 12,
    left: [],
    leftYAxis: { min: 0 },
  });

  constructor(
    private readonly stack: Stack,
    private readonly props: ObservabilityProps,
  ) {
    const key = new kms.Key(stack, 'AlarmTopicKey', { enableKeyRotation: true, description: 'Encrypts the alarm topic' });
    key.grantEncryptDecrypt(new iam.ServicePrincipal('cloudwatch.amazonaws.com'));
    this.alarmTopic = new sns.Topic(stack, 'AlarmTopic', { displayName: 'Message store alarms', masterKey: key, enforceSSL: true });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    this.action = new cloudwatchActions.SnsAction(this.alarmTopic);
    this.dashboard = new cloudwatch.Dashboard(stack, 'Dashboard', {
      dashboardName: `${stack.stackName}-messages`,
      defaultInterval: Duration.hours(3),
    });
  }

  /** An alarm to the alarm topic; by default breaching at or above the threshold in one 5-minute period. */
  alarm(id: string, options: AlarmOptions): cloudwatch.Alarm {
    const evaluationPeriods = options.evaluationPeriods ?? 1;
    const created = new cloudwatch.Alarm(this.stack, id, {
      metric: options.metric,
      threshold: options.threshold,
      evaluationPeriods,
      datapointsToAlarm: evaluationPeriods > 1 ? evaluationPeriods : undefined,
      comparisonOperator: options.comparison ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: options.missing ?? cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: options.description,
    });
    if (options.notify !== false) created.addAlarmAction(this.action);
    return created;
  }

  /** A metric the functions emit, with the dimensions {service, route}. */
  emitted(metricName: string, route: string, statistic: string, label?: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.props.metricsNamespace,
      metricName,
      dimensionsMap: { service: this.props.service, route },
      statistic,
      period: PERIOD,
      label,
    });
  }

  /** Every route's line of `metricName`, whichever routes emitted it (dashboards only: alarms cannot search). */
  private searched(metricName: string, statistic: string): cloudwatch.SearchExpression {
    const { metricsNamespace, service } = this.props;
    return new cloudwatch.SearchExpression({
      expression: `SEARCH('{"${metricsNamespace}",route,service} service="${service}" MetricName="${metricName}"', '${statistic}', ${PERIOD.toSeconds()})`,
      label: '',
      period: PERIOD,
    });
  }

  /** See MessagesStack.addDeadLetterQueue. */
  addDeadLetterQueue(id: string, purpose: string): sqs.Queue {
    const queue = new sqs.Queue(this.stack, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.deadLetterQueues.push(queue);
    this.alarm(`${id}NotEmpty`, {
      metric: queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }),
      threshold: 0,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `Dead-letter queue ${id} holds messages: ${purpose}`,
    });
    this.deadLetterWidget.addLeftMetric(queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum', label: id }));
    return queue;
  }

  /** The alarms and the dashboard over the API, every route and function, and the reconciler. */
  watch({ api, routes, functions, reconcile, purge, push }: Watched): void {
    const emitted = this.emitted.bind(this);

    // Lambda's own view of every function: unhandled errors per function; throttles summed over groups of
    // functions by metric math (one alarm per THROTTLE_ALARM_GROUP functions instead of one each: a throttle
    // is an account or reserved-concurrency limit, and the dashboard shows which function it hit).
    const all = [...functions];
    for (const [handler, operation] of all) {
      this.alarm(`${pascal(handler)}Errors`, { metric: operation.function.metricErrors({ period: PERIOD, statistic: 'Sum' }), threshold: 1, description: `${handler}: invocation errors` });
    }
    for (let start = 0; start < all.length; start += THROTTLE_ALARM_GROUP) {
      const group = all.slice(start, start + THROTTLE_ALARM_GROUP);
      const usingMetrics = Object.fromEntries(group.map(([, operation], index) => [`t${index}`, operation.function.metricThrottles({ period: PERIOD, statistic: 'Sum' })]));
      this.alarm(`Throttles${start / THROTTLE_ALARM_GROUP + 1}`, {
        metric: new cloudwatch.MathExpression({ expression: `SUM([${Object.keys(usingMetrics).join(', ')}])`, usingMetrics, period: PERIOD, label: 'throttled invocations' }),
        threshold: 1,
        description: `Throttled invocations of any of: ${group.map(([handler]) => handler).join(', ')}`,
      });
    }
    // The pipeline answers unexpected errors with a 500 body itself, so Lambda's Errors never sees them:
    // every 5xx a route answers counts in its ServerError.
    for (const route of routes) {
      this.alarm(`${pascal(route.handler)}ServerError`, {
        metric: emitted(METRIC.serverError, route.handler, 'Sum'),
        threshold: 1,
        description: `${route.method} ${route.path} (${route.handler}) answered 5xx`,
      });
    }
    this.alarm('Api5xx', { metric: api.metricServerError({ period: PERIOD, statistic: 'Sum' }), threshold: 5, description: 'API answered 5xx (stores down or a bug)' });
    this.alarm('Api4xxSurge', { metric: api.metricClientError({ period: PERIOD, statistic: 'Sum' }), threshold: 1000, description: 'Unusual number of 4xx (abuse or a broken client)' });

    this.alarm('ReconcilerNotRunning', {
      metric: reconcile.function.metricInvocations({ period: Duration.minutes(30), statistic: 'Sum' }),
      threshold: 1,
      comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      missing: cloudwatch.TreatMissingData.BREACHING,
      description: 'The scheduled reconciler has not run for 30 minutes',
    });
    this.alarm('ReconcilerFailed', {
      metric: emitted(METRIC.reconcilerFailed, RECONCILE_ROUTE, 'Sum'),
      threshold: 1,
      description: 'A reconciler run threw or one of its tasks failed (see the reconcile logs)',
    });
    // The backlog is drained every run; entries still waiting after three runs in a row mean it is not
    // draining (PostgreSQL still down, or an entry failing every time).
    this.alarm('SearchBacklogNotDraining', {
      metric: emitted(METRIC.searchBacklogDepth, RECONCILE_ROUTE, 'Maximum'),
      threshold: 0,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      description: 'Search-index backlog entries have waited for 15 minutes: messages are stored but not searchable',
    });

    // The search outbox's sweep is how far behind now: every message the indexer missed older than that is
    // not searchable. Normally under SWEEP_GRACE_MS plus one schedule; PostgreSQL down, or a sweep that cannot
    // keep up, lets it grow.
    this.alarm('SearchSweepBehind', {
      metric: emitted(METRIC.searchSweepLag, RECONCILE_ROUTE, 'Maximum'),
      threshold: SEARCH_SWEEP_LAG_ALARM_SECONDS,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      description: `The search-outbox sweep is more than ${SEARCH_SWEEP_LAG_ALARM_SECONDS} s behind (normally under ${SWEEP_GRACE_MS / 1000} s plus one reconciler schedule): messages the indexer missed are not searchable`,
    });

    // A search-index job that can never succeed (PostgreSQL refused its data) is set aside in
    // search_index_dead_letters instead of being retried forever: each one is a message that is stored but
    // will never be searchable until someone looks, so one is enough to notify. The functions that index (the
    // indexer on the changes bus, the reconciler's sweep and old-backlog drain) are summed in one metric-math
    // alarm.
    const indexingRoutes = [INDEX_ROUTE, RECONCILE_ROUTE];
    const deadLetterMetrics = Object.fromEntries(indexingRoutes.map((route, index) => [`d${index}`, emitted(METRIC.searchBacklogDeadLettered, route, 'Sum')]));
    this.alarm('SearchIndexDeadLettered', {
      metric: new cloudwatch.MathExpression({ expression: `SUM([${Object.keys(deadLetterMetrics).join(', ')}])`, usingMetrics: deadLetterMetrics, period: PERIOD, label: 'search jobs set aside' }),
      threshold: 1,
      description: 'A search-index job could never succeed and was set aside (search_index_dead_letters): that message is not searchable',
    });

    // A Telegram update acknowledged but never stored (its date cannot become an id): Telegram will not send it
    // again, so each one is a message missing from the bridged channel.
    this.alarm('TelegramUpdateUnstorable', {
      metric: emitted(METRIC.telegramUpdateUnstorable, 'telegram-webhook', 'Sum'),
      threshold: 1,
      description: 'A Telegram update was acknowledged but not stored (its date is out of range): that message is missing from its channel',
    });

    // ChangeLateWrite: a change acknowledged after the feed's write deadline may have been passed over by a
    // follower (README, "The changes feed"): one is worth a look. Every route that records changes counts it;
    // a metric-math alarm sums at most 10 metrics, so the routes are summed in groups.
    const recordingRoutes = changeRecorders;
    // ChangeLost: a change neither the feed nor the PostgreSQL outbox took (both stores failing at once).
    // WorkerIdsExhausted: every route that records a change mints ids; one refusal means the live minting
    // containers reached the 1,023 worker ids (README, "Ids"): lower their reserved/maximum concurrency.
    const changeAlarms = [
      { metric: METRIC.changeLateWrite, name: 'ChangeLateWrite', label: 'changes acknowledged late', what: "A change was acknowledged after the changes feed's write deadline: a follower may have missed it; raise CHANGES_WRITE_DEADLINE_MS or find the slow writes" },
      { metric: METRIC.changeLost, name: 'ChangeLost', label: 'changes lost', what: 'A change reached neither the changes feed nor the outbox: followers miss it until they reload' },
      { metric: METRIC.workerIdsExhausted, name: 'WorkerIdsExhausted', label: 'writes refused: no worker id', what: 'A write was refused with 503 because all 1,023 Snowflake worker ids are held: too many live containers mint ids' },
    ];
    for (const { metric, name, label, what } of changeAlarms) {
      for (let start = 0, group = 1; start < recordingRoutes.length; start += 10, group++) {
        const some = recordingRoutes.slice(start, start + 10);
        const summed = Object.fromEntries(some.map((route, index) => [`m${index}`, emitted(metric, route, 'Sum')]));
        this.alarm(`${name}${group}`, {
          metric: new cloudwatch.MathExpression({ expression: `SUM([${Object.keys(summed).join(', ')}])`, usingMetrics: summed, period: PERIOD, label }),
          threshold: 1,
          description: `${what} (routes ${some.join(', ')})`,
        });
      }
    }

    // RateLimitFailOpen: alarmed, when sustained. A Redis blip is meant to let requests through, but 15
    // minutes of it means no one is rate limited at all (and typing and presence are dropped), and no other
    // alarm says so: those routes answer 2xx. Every rate-limited route (writes and, since the per-user read
    // limit, every authenticated read) shares the one Redis; the routes are summed by metric math in groups
    // of 10 (an alarm each route cost ~25 of CloudFormation's 500 resources).
    // WorkerLeaseReclaimed: dashboard only. It heals itself (a fresh worker id is claimed before any id is
    // minted, so ids stay unique) and happens whenever a container sits idle past its lease; a Scylla
    // failure behind it already shows as ServerError and StoreUnavailable.
    // Writes count RateLimitFailOpen, reads ReadRateLimitFailOpen (a read let through costs less than a write).
    const limited = routes.filter((route) => rateLimitOf(route) !== undefined);
    for (let start = 0, group = 1; start < limited.length; start += 10, group++) {
      const some = limited.slice(start, start + 10);
      const summed = Object.fromEntries(
        some.map((route, index) => [`f${index}`, emitted(rateLimitOf(route) === 'writes' ? METRIC.rateLimitFailOpen : METRIC.readRateLimitFailOpen, route.handler, 'Sum')]),
      );
      this.alarm(`RateLimitFailOpen${group}`, {
        metric: new cloudwatch.MathExpression({ expression: `SUM([${Object.keys(summed).join(', ')}])`, usingMetrics: summed, period: PERIOD, label: 'requests let through unlimited' }),
        threshold: 1,
        evaluationPeriods: 3,
        description: `Redis (Upstash) has not answered the rate limit for 15 minutes: requests went through unlimited (routes ${some.map((route) => route.handler).join(', ')})`,
      });
    }

    this.buildDashboard({ api, routes, functions, reconcile, purge, push });
  }

  private buildDashboard({ api, routes, reconcile, purge, push }: Watched): void {
    const emitted = this.emitted.bind(this);
    const graph = (title: string, left: cloudwatch.IMetric[], width = 8, extra: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title, left, width, height: 6, leftYAxis: { min: 0 }, ...extra });
    const stored = routes.filter((route) => storesOf(route).length > 0);
    const timeout = reconcile.function.timeout?.toMilliseconds();

    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# Message store\nMetrics in \`${this.props.metricsNamespace}\`, dimensions service=${this.props.service} and route=<handler>. Alarms go to the alarm topic.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      graph('API requests', [api.metricCount({ period: PERIOD, statistic: 'Sum', label: 'requests' })]),
      graph('API 4xx and 5xx', [
        api.metricClientError({ period: PERIOD, statistic: 'Sum', label: '4xx' }),
        api.metricServerError({ period: PERIOD, statistic: 'Sum', label: '5xx' }),
      ]),
      graph('API latency (ms)', [
        api.metricLatency({ period: PERIOD, statistic: 'p50', label: 'p50' }),
        api.metricLatency({ period: PERIOD, statistic: 'p99', label: 'p99' }),
        api.metricIntegrationLatency({ period: PERIOD, statistic: 'p99', label: 'integration p99' }),
      ]),
    );
    this.dashboard.addWidgets(
      graph('ServerError by route', routes.map((route) => emitted(METRIC.serverError, route.handler, 'Sum', route.handler)), 12),
      graph('Latency p99 by route (ms)', routes.map((route) => emitted(METRIC.latency, route.handler, 'p99', route.handler)), 12),
    );
    this.dashboard.addWidgets(
      graph('StoreUnavailable by route', stored.map((route) => emitted(METRIC.storeUnavailable, route.handler, 'Sum', route.handler)), 24),
    );
    this.dashboard.addWidgets(
      graph('Degraded: SearchIndexQueued (indexing left to the sweep: a store down)', [this.searched(METRIC.searchIndexQueued, 'Sum')]),
      graph('Degraded: RateLimitFailOpen (writes let through unlimited)', [this.searched(METRIC.rateLimitFailOpen, 'Sum')]),
      graph('Degraded: WorkerLeaseReclaimed (new worker id claimed)', [this.searched(METRIC.workerLeaseReclaimed, 'Sum')]),
    );
    this.dashboard.addWidgets(
      graph('Search outbox sweep', [
        emitted(METRIC.searchSweepLag, RECONCILE_ROUTE, 'Maximum', 'lag (s)'),
        emitted(METRIC.searchSweepRepaired, RECONCILE_ROUTE, 'Sum', 'applied by the sweep (the indexer missed them)'),
        emitted(METRIC.searchIndexQueued, INDEX_ROUTE, 'Sum', 'left to the sweep by the indexer'),
      ]),
      graph('Search backlog', [
        emitted(METRIC.searchBacklogDepth, RECONCILE_ROUTE, 'Maximum', 'waiting after the run'),
        emitted(METRIC.searchBacklogApplied, RECONCILE_ROUTE, 'Sum', 'applied'),
        emitted(METRIC.searchBacklogDeadLettered, RECONCILE_ROUTE, 'Sum', 'set aside (can never succeed)'),
      ]),
      graph('Reconciler failures', [
        emitted(METRIC.reconcilerFailed, RECONCILE_ROUTE, 'Sum', 'ReconcilerFailed'),
        reconcile.function.metricErrors({ period: PERIOD, statistic: 'Sum', label: 'Lambda errors' }),
        reconcile.function.metricInvocations({ period: PERIOD, statistic: 'Sum', label: 'runs' }),
      ]),
      graph(
        'Reconciler duration (ms)',
        [
          reconcile.function.metricDuration({ period: PERIOD, statistic: 'Maximum', label: 'max' }),
          reconcile.function.metricDuration({ period: PERIOD, statistic: 'Average', label: 'average' }),
        ],
        8,
        timeout ? { leftAnnotations: [{ value: timeout, label: 'timeout' }] } : {},
      ),
    );
    this.dashboard.addWidgets(
      graph('Channel purges', [
        emitted(METRIC.channelPurged, PURGE_ROUTE, 'Sum', 'channels purged'),
        emitted(METRIC.channelPurgeStep, PURGE_ROUTE, 'Sum', 'steps done'),
        emitted(METRIC.channelPurgeRetried, PURGE_ROUTE, 'Sum', 'paused or retried'),
        purge.function.function.metricErrors({ period: PERIOD, statistic: 'Sum', label: 'Lambda errors' }),
      ]),
      graph('Purge queue', [
        purge.queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum', label: 'waiting' }),
        purge.queue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: 'Maximum', label: 'oldest (s)' }),
      ]),
      graph('Degraded: ChannelActivityDeferred (channel order not moved: PostgreSQL down)', [this.searched(METRIC.channelActivityDeferred, 'Sum')]),
    );
    if (push) {
      const fanOut = push.fanOut.function;
      this.dashboard.addWidgets(
        graph('Changes published to the bus (by route)', [this.searched(METRIC.changePublished, 'Sum'), this.searched(METRIC.changePublishFailed, 'Sum')]),
        graph('Real-time push: frames', [
          emitted(METRIC.pushDelivered, FAN_OUT_ROUTE, 'Sum', 'delivered'),
          emitted(METRIC.pushGone, FAN_OUT_ROUTE, 'Sum', 'connection gone'),
          emitted(METRIC.pushFailed, FAN_OUT_ROUTE, 'Sum', 'failed'),
        ]),
        graph('Real-time push: fan-out', [
          fanOut.metricInvocations({ period: PERIOD, statistic: 'Sum', label: 'invocations' }),
          fanOut.metricErrors({ period: PERIOD, statistic: 'Sum', label: 'Lambda errors' }),
          fanOut.metricThrottles({ period: PERIOD, statistic: 'Sum', label: 'throttled' }),
        ]),
      );
    }
    this.dashboard.addWidgets(this.deadLetterWidget);
  }
}

export function pascal(kebab: string): string {
  return kebab.replace(/(^|-)(\w)/g, (_, __, char: string) => char.toUpperCase());
}
