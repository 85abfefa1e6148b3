/** Alarms, dashboard, metrics namespace and tracing on the synthesised template (bundling skipped). */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { routes, type Route } from '../../functions/routes.js';
import { MessagesStack, type MessagesStackProps } from '../../infra/cdk/messages-stack.js';
import { exampleSettings } from './example-settings.js';

const table: readonly Route[] = routes;
/** migrate, reconcile, purge-channel, ws-authorizer, ws-routes, fan-out, index-messages, register-telegram-webhook (the example has a bot). */
const BACKGROUND_FUNCTIONS = 8;
const SETTINGS: MessagesStackProps['settings'] = exampleSettings();

function synth(id: string, settings: Partial<MessagesStackProps['settings']> = {}): { stack: MessagesStack; template: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new MessagesStack(app, id, { settings: { ...SETTINGS, ...settings } });
  return { stack, template: Template.fromStack(stack) };
}

type Resource = { Type: string; Properties: Record<string, any> };
const resourcesOf = (template: Template) => template.toJSON().Resources as Record<string, Resource>;
const alarmsOf = (template: Template) => Object.values(resourcesOf(template)).filter((resource) => resource.Type === 'AWS::CloudWatch::Alarm');
const topicRef = (stack: MessagesStack, template: Template) => {
  const [topicId] = Object.entries(resourcesOf(template)).find(([, resource]) => resource.Type === 'AWS::SNS::Topic')!;
  expect(stack.getLogicalId(stack.alarmTopic.node.defaultChild as never)).toBe(topicId);
  return { Ref: topicId };
};
/** Alarms on a metric the functions emit, in `namespace`, with dimensions service=messages and route=`route`. */
const emittedAlarms = (template: Template, metricName: string, route: string, namespace = 'ChatMessages') =>
  alarmsOf(template).filter(
    ({ Properties: p }) =>
      p.Namespace === namespace &&
      p.MetricName === metricName &&
      JSON.stringify([...(p.Dimensions ?? [])].sort((a: any, b: any) => a.Name.localeCompare(b.Name))) ===
        JSON.stringify([{ Name: 'route', Value: route }, { Name: 'service', Value: 'messages' }]),
  );
const functionProperties = (stack: MessagesStack, template: Template) =>
  [...stack.functions].map(([handler, operation]) => ({
    handler,
    properties: resourcesOf(template)[stack.getLogicalId(operation.function.node.defaultChild as never)]!.Properties,
  }));

/** A token in the dashboard body as text: `Ref:<id>`, `GetAtt:<id>.<attribute>`, else `TOKEN`. */
function tokenText(part: any): string {
  if (part.Ref) return `Ref:${part.Ref}`;
  if (part['Fn::GetAtt']) return `GetAtt:${part['Fn::GetAtt'].join('.')}`;
  return 'TOKEN';
}
/** The dashboard body, parsed, with its tokens as text. */
function dashboardWidgets(template: Template): any[] {
  const dashboards = Object.values(resourcesOf(template)).filter((resource) => resource.Type === 'AWS::CloudWatch::Dashboard');
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0]!.Properties.DashboardBody;
  const text = typeof body === 'string' ? body : (body['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : tokenText(part))).join('');
  return JSON.parse(text).widgets;
}
const widgetTitled = (widgets: any[], title: RegExp) => {
  const found = widgets.find((widget) => title.test(widget.properties?.title ?? ''));
  expect(found, `a widget titled ${title}`).toBeDefined();
  return found;
};
/** The metric arrays of a graph widget, without the trailing rendering options. */
const metricsOf = (widget: any): unknown[][] => widget.properties.metrics.map((row: unknown[]) => row.filter((item) => typeof item !== 'object'));
/** A metric array's [namespace, name, {dimension: value}]. */
const parsed = (row: unknown[]) => {
  const dimensions: Record<string, unknown> = {};
  for (let index = 2; index + 1 < row.length; index += 2) dimensions[String(row[index])] = row[index + 1];
  return { namespace: row[0], name: row[1], dimensions };
};

let defaults: { stack: MessagesStack; template: Template };
beforeAll(() => {
  defaults = synth('Observed');
});

describe('alarms', () => {
  it('alarms to the alarm topic on ServerError (Sum >= 1 over 5 minutes) for every route in the route table', () => {
    const { stack, template } = defaults;
    const topic = topicRef(stack, template);
    expect(table.length).toBeGreaterThan(0);
    for (const route of table) {
      const alarms = emittedAlarms(template, 'ServerError', route.handler);
      expect(alarms, route.handler).toHaveLength(1);
      expect(alarms[0]!.Properties).toMatchObject({
        Statistic: 'Sum',
        Period: 300,
        Threshold: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [topic],
      });
    }
    expect(alarmsOf(template).filter(({ Properties: p }) => p.MetricName === 'ServerError')).toHaveLength(table.length);
  });

  it('keeps a Lambda Errors alarm per function and covers every function by exactly one Throttles metric-math alarm', () => {
    const { stack, template } = defaults;
    const alarms = alarmsOf(template);
    const throttleAlarms = alarms.filter(({ Properties: p }) => (p.Metrics ?? []).some((m: any) => m.MetricStat?.Metric?.MetricName === 'Throttles'));
    for (const alarm of throttleAlarms) {
      const metrics = alarm.Properties.Metrics as any[];
      // CloudWatch takes at most 10 metrics in an alarm's math; the one expression sums them.
      expect(metrics.filter((m) => m.MetricStat).length).toBeLessThanOrEqual(10);
      expect(metrics.find((m) => m.Expression)).toMatchObject({ Expression: expect.stringMatching(/^SUM\(\[/), ReturnData: true });
      expect(alarm.Properties).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', AlarmActions: [topicRef(stack, template)] });
    }
    for (const [handler, operation] of stack.functions) {
      const name = { Ref: stack.getLogicalId(operation.function.node.defaultChild as never) };
      const errors = alarms.filter(
        ({ Properties: p }) => p.Namespace === 'AWS/Lambda' && p.MetricName === 'Errors' && JSON.stringify(p.Dimensions) === JSON.stringify([{ Name: 'FunctionName', Value: name }]),
      );
      expect(errors, `${handler} Errors`).toHaveLength(1);
      const throttles = throttleAlarms.filter(({ Properties: p }) =>
        (p.Metrics as any[]).some((m) => m.MetricStat?.Metric?.MetricName === 'Throttles' && JSON.stringify(m.MetricStat.Metric.Dimensions) === JSON.stringify([{ Name: 'FunctionName', Value: name }])),
      );
      expect(throttles, `${handler} Throttles`).toHaveLength(1);
    }
  });

  it('alarms when the search backlog has not drained for 3 consecutive 5-minute periods', () => {
    const { stack, template } = defaults;
    const alarms = emittedAlarms(template, 'SearchBacklogDepth', 'reconcile');
    expect(alarms).toHaveLength(1);
    expect(alarms[0]!.Properties).toMatchObject({
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      AlarmActions: [topicRef(stack, template)],
    });
  });

  it('alarms when the search-outbox sweep is more than 15 minutes behind for two periods', () => {
    const { stack, template } = defaults;
    const alarms = emittedAlarms(template, 'SearchSweepLag', 'reconcile');
    expect(alarms).toHaveLength(1);
    expect(alarms[0]!.Properties).toMatchObject({
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 900,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 2,
      AlarmActions: [topicRef(stack, template)],
    });
  });

  it('alarms on any search job set aside, from every function that indexes, to the alarm topic', () => {
    const { stack, template } = defaults;
    const alarms = Object.values(resourcesOf(template)).filter(
      (resource) => resource.Type === 'AWS::CloudWatch::Alarm' && ((resource.Properties.Metrics ?? []) as any[]).some((m) => m.MetricStat?.Metric?.MetricName === 'SearchBacklogDeadLettered'),
    );
    expect(alarms).toHaveLength(1);
    const routesSummed = (alarms[0]!.Properties.Metrics as any[])
      .filter((m) => m.MetricStat)
      .map((m) => (m.MetricStat.Metric.Dimensions as { Name: string; Value: string }[]).find((d) => d.Name === 'route')!.Value)
      .sort();
    expect(routesSummed).toEqual(['index-messages', 'reconcile']);
    expect(alarms[0]!.Properties).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', AlarmActions: [topicRef(stack, template)] });
  });

  it('alarms on any reconciler failure (ReconcilerFailed Sum >= 1)', () => {
    const { stack, template } = defaults;
    const alarms = emittedAlarms(template, 'ReconcilerFailed', 'reconcile');
    expect(alarms).toHaveLength(1);
    expect(alarms[0]!.Properties).toMatchObject({
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [topicRef(stack, template)],
    });
  });

  it('alarms when any rate-limited route (every JWT route) fails open on its rate limit for 15 minutes, each route in exactly one metric-math alarm', () => {
    const { stack, template } = defaults;
    const limited = table.filter((route) => route.auth === 'jwt').map((route) => `${route.write ? 'RateLimitFailOpen' : 'ReadRateLimitFailOpen'}:${route.handler}`);
    expect(limited.length).toBeGreaterThan(10);
    const failOpen = alarmsOf(template).filter(({ Properties: p }) => (p.Metrics ?? []).some((m: any) => /RateLimitFailOpen$/.test(m.MetricStat?.Metric?.MetricName)));
    const covered = failOpen.flatMap((alarm) => {
      const metrics = alarm.Properties.Metrics as any[];
      expect(metrics.filter((m) => m.MetricStat).length).toBeLessThanOrEqual(10);
      expect(metrics.find((m) => m.Expression)).toMatchObject({ Expression: expect.stringMatching(/^SUM\(\[/), ReturnData: true });
      expect(alarm.Properties).toMatchObject({ Threshold: 1, EvaluationPeriods: 3, DatapointsToAlarm: 3, AlarmActions: [topicRef(stack, template)] });
      return metrics
        .filter((m) => m.MetricStat)
        .map((m) => `${m.MetricStat.Metric.MetricName}:${(m.MetricStat.Metric.Dimensions as { Name: string; Value: string }[]).find((d) => d.Name === 'route')!.Value}`);
    });
    expect(covered.sort()).toEqual([...limited].sort());
  });

  it('gives the reconciler an encrypted, TLS-only dead-letter queue for its schedule and its async invocations, and alarms on it', () => {
    const { stack, template } = defaults;
    const resources = resourcesOf(template);
    const queueId = stack.observability.deadLetterQueues.map((queue) => stack.getLogicalId(queue.node.defaultChild as never)).find((id) => id.startsWith('ReconcileDeadLetterQueue'))!;
    const queue = resources[queueId]!;
    expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    const policy = Object.values(resources).find((resource) => resource.Type === 'AWS::SQS::QueuePolicy' && JSON.stringify(resource.Properties.Queues).includes(queueId))!;
    expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');

    const reconcile = resources[stack.getLogicalId(stack.functions.get('reconcile')!.function.node.defaultChild as never)]!;
    expect(reconcile.Properties.DeadLetterConfig).toEqual({ TargetArn: { 'Fn::GetAtt': [queueId, 'Arn'] } });
    const schedule = Object.values(resources).find((resource) => resource.Type === 'AWS::Events::Rule' && resource.Properties.ScheduleExpression)!;
    expect(schedule.Properties.Targets).toHaveLength(1);
    expect(schedule.Properties.Targets[0]).toMatchObject({
      Arn: { 'Fn::GetAtt': [stack.getLogicalId(stack.functions.get('reconcile')!.function.node.defaultChild as never), 'Arn'] },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
    });
    expectDeadLetterAlarm(stack, template, queueId);
  });

  it('alarms on any dead-letter queue registered later through addDeadLetterQueue', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new MessagesStack(app, 'MoreQueues', { settings: SETTINGS });
    const later = stack.addDeadLetterQueue('LaterDeadLetterQueue', 'a later consumer');
    const template = Template.fromStack(stack);
    const queueId = stack.getLogicalId(later.node.defaultChild as never);
    // The reconciler's, the purge's, the fan-out's and the search indexer's dead-letter queues, the purge queue,
    // and this one.
    expect(Object.values(resourcesOf(template)).filter((resource) => resource.Type === 'AWS::SQS::Queue')).toHaveLength(6);
    expectDeadLetterAlarm(stack, template, queueId);
    const dlqWidget = widgetTitled(dashboardWidgets(template), /dead-letter/i);
    expect(metricsOf(dlqWidget).map((row) => parsed(row).dimensions.QueueName)).toContain(`GetAtt:${queueId}.QueueName`);
  });
});

function expectDeadLetterAlarm(stack: MessagesStack, template: Template, queueId: string): void {
  const alarms = alarmsOf(template).filter(
    ({ Properties: p }) =>
      p.Namespace === 'AWS/SQS' &&
      p.MetricName === 'ApproximateNumberOfMessagesVisible' &&
      JSON.stringify(p.Dimensions) === JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }]),
  );
  expect(alarms, queueId).toHaveLength(1);
  expect(alarms[0]!.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', AlarmActions: [topicRef(stack, template)] });
}

describe('dashboard', () => {
  it('shows the API, every route, the stores, the degraded modes, the search backlog, the reconciler and the DLQs', () => {
    const { template } = defaults;
    const widgets = dashboardWidgets(template);

    const api = (title: RegExp) => metricsOf(widgetTitled(widgets, title)).map((row) => `${String(row[0])}/${String(row[1])}`);
    expect(api(/API requests/)).toEqual(['AWS/ApiGateway/Count']);
    expect(api(/4xx and 5xx/)).toEqual(['AWS/ApiGateway/4xx', 'AWS/ApiGateway/5xx']);
    expect(api(/API latency/)).toContain('AWS/ApiGateway/Latency');

    const perRoute = (title: RegExp, metricName: string) =>
      metricsOf(widgetTitled(widgets, title)).map((row) => {
        const { namespace, name, dimensions } = parsed(row);
        expect({ namespace, name, service: dimensions.service, dimensions: Object.keys(dimensions).sort() }).toEqual({
          namespace: 'ChatMessages',
          name: metricName,
          service: 'messages',
          dimensions: ['route', 'service'],
        });
        return dimensions.route;
      });
    expect(perRoute(/ServerError by route/, 'ServerError')).toEqual(table.map((route) => route.handler));
    expect(perRoute(/Latency p99 by route/, 'Latency')).toEqual(table.map((route) => route.handler));
    expect(widgetTitled(widgets, /Latency p99 by route/).properties.metrics.every((row: unknown[]) => JSON.stringify(row.at(-1)).includes('"stat":"p99"'))).toBe(true);
    expect(perRoute(/StoreUnavailable/, 'StoreUnavailable')).toContain('create-message');

    for (const metricName of ['SearchIndexQueued', 'RateLimitFailOpen', 'WorkerLeaseReclaimed']) {
      const widget = widgetTitled(widgets, new RegExp(metricName));
      expect(JSON.stringify(widget.properties.metrics)).toMatch(new RegExp(`SEARCH\\(.*ChatMessages.*service=\\\\"messages\\\\" MetricName=\\\\"${metricName}\\\\"`));
    }
    const backlog = metricsOf(widgetTitled(widgets, /Search backlog/)).map((row) => row[1]);
    expect(backlog).toEqual(['SearchBacklogDepth', 'SearchBacklogApplied', 'SearchBacklogDeadLettered']);
    expect(metricsOf(widgetTitled(widgets, /Reconciler failures/)).map((row) => row[1])).toContain('ReconcilerFailed');
    expect(metricsOf(widgetTitled(widgets, /Reconciler duration/)).map((row) => row[1])).toContain('Duration');
    const dlq = metricsOf(widgetTitled(widgets, /dead-letter/i)).map(parsed);
    expect(dlq.map(({ namespace, name }) => `${String(namespace)}/${String(name)}`)).toEqual(defaults.stack.observability.deadLetterQueues.map(() => 'AWS/SQS/ApproximateNumberOfMessagesVisible'));
    expect(dlq.map((row) => row.dimensions.QueueName)).toEqual(
      defaults.stack.observability.deadLetterQueues.map((queue) => `GetAtt:${defaults.stack.getLogicalId(queue.node.defaultChild as never)}.QueueName`),
    );
    const purges = metricsOf(widgetTitled(widgets, /Channel purges/)).map((row) => row[1]);
    expect(purges).toEqual(expect.arrayContaining(['ChannelPurged', 'ChannelPurgeStep', 'ChannelPurgeRetried']));
    expect(JSON.stringify(widgetTitled(widgets, /ChannelActivityDeferred/).properties.metrics)).toContain('ChannelActivityDeferred');
  });
});

describe('metrics namespace and tracing', () => {
  it('by default: every function has active tracing, TRACING_ENABLED=true, METRICS_NAMESPACE=ChatMessages, service messages', () => {
    const functions = functionProperties(defaults.stack, defaults.template);
    expect(functions.length).toBe(table.length + BACKGROUND_FUNCTIONS);
    for (const { handler, properties } of functions) {
      expect(properties.TracingConfig, handler).toEqual({ Mode: 'Active' });
      expect(properties.Environment.Variables, handler).toMatchObject({ TRACING_ENABLED: 'true', METRICS_NAMESPACE: 'ChatMessages', POWERTOOLS_SERVICE_NAME: 'messages' });
    }
  });

  it('with tracing off: no function traces or gets TRACING_ENABLED; the namespace prop reaches functions, alarms and dashboard', () => {
    const { stack, template } = synth('Untraced', { tracing: false, metricsNamespace: 'Team/Chat' });
    const functions = functionProperties(stack, template);
    expect(functions.length).toBe(table.length + BACKGROUND_FUNCTIONS);
    for (const { handler, properties } of functions) {
      expect(properties.TracingConfig, handler).toBeUndefined();
      expect('TRACING_ENABLED' in properties.Environment.Variables, handler).toBe(false);
      expect(properties.Environment.Variables.METRICS_NAMESPACE, handler).toBe('Team/Chat');
      expect(properties.Environment.Variables.POWERTOOLS_SERVICE_NAME, handler).toBe('messages');
    }
    for (const route of table) expect(emittedAlarms(template, 'ServerError', route.handler, 'Team/Chat'), route.handler).toHaveLength(1);
    expect(emittedAlarms(template, 'SearchBacklogDepth', 'reconcile', 'Team/Chat')).toHaveLength(1);
    expect(alarmsOf(template).some(({ Properties: p }) => p.Namespace === 'ChatMessages')).toBe(false);
    const serverErrors = metricsOf(widgetTitled(dashboardWidgets(template), /ServerError by route/));
    expect(new Set(serverErrors.map((row) => row[0]))).toEqual(new Set(['Team/Chat']));
  });
});
