/** The channel purge on AWS (queue, dead-letter queue, purge function) and the stack's size (bundling skipped). */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { changeRecorders, purgeChannelFunction, routes, storesOf, type Route } from '../../functions/routes.js';
import { MessagesStack } from '../../infra/cdk/messages-stack.js';
import { exampleSettings } from './example-settings.js';

type Resource = { Type: string; Properties: Record<string, any> };
let stack: MessagesStack;
let resources: Record<string, Resource>;
const table: readonly Route[] = routes;

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  stack = new MessagesStack(app, 'Purge', {
    settings: exampleSettings(),
  });
  resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
});

const idOf = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
const functionId = (handler: string) => idOf(stack.functions.get(handler)!.function);
const statementsOfRole = (roleId: string) =>
  Object.values(resources)
    .filter((resource) => resource.Type === 'AWS::IAM::Policy' && resource.Properties.Roles.some((role: any) => role.Ref === roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as any[]);
const roleOf = (handler: string): string => resources[functionId(handler)]!.Properties.Role['Fn::GetAtt'][0];

describe('channel purge infrastructure', () => {
  it('queues purges on an encrypted, TLS-only queue whose redrive goes to an alarmed dead-letter queue', () => {
    const queueId = idOf(stack.purgeQueue);
    const queue = resources[queueId]!.Properties;
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(purgeChannelFunction.timeoutSeconds);
    const dlqId = queue.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0];
    expect(queue.RedrivePolicy.maxReceiveCount).toBe(purgeChannelFunction.maxReceiveCount);
    expect(stack.observability.deadLetterQueues.map(idOf)).toContain(dlqId);
    const alarms = Object.values(resources).filter(
      (resource) => resource.Type === 'AWS::CloudWatch::Alarm' && JSON.stringify(resource.Properties.Dimensions ?? []).includes(`"${dlqId}"`),
    );
    expect(alarms).toHaveLength(1);
    const policy = Object.values(resources).find((resource) => resource.Type === 'AWS::SQS::QueuePolicy' && JSON.stringify(resource.Properties.Queues).includes(queueId))!;
    expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
  });

  it('runs the purge function from the queue with partial batch responses, wired to Scylla and PostgreSQL', () => {
    const mappings = Object.values(resources).filter((resource) => resource.Type === 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    expect(mappings[0]!.Properties).toMatchObject({
      FunctionName: { Ref: functionId('purge-channel') },
      EventSourceArn: { 'Fn::GetAtt': [idOf(stack.purgeQueue), 'Arn'] },
      BatchSize: purgeChannelFunction.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const purge = resources[functionId('purge-channel')]!.Properties;
    expect(purge.Timeout).toBe(purgeChannelFunction.timeoutSeconds);
    expect(purge.Environment.Variables.SCYLLA_CREDENTIALS_SECRET_ARN).toBeDefined();
    expect(purge.Environment.Variables.DATABASE_URL_SECRET_ARN).toBeDefined();
    const actions = statementsOfRole(roleOf('purge-channel')).flatMap((statement) => [statement.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']));
  });

  it('delays a delete’s purge past requests in flight and the webhook’s link cache', () => {
    const queue = resources[idOf(stack.purgeQueue)]!.Properties;
    expect(purgeChannelFunction.delaySeconds).toBeGreaterThanOrEqual(90); // 30 s link cache + the longest request (30 s API limit) + margin
    expect(queue.DelaySeconds).toBe(purgeChannelFunction.delaySeconds);
    expect(queue.DelaySeconds).toBeLessThanOrEqual(900);
  });

  it('lets the purge function (continuations) and the reconciler (its sweep) send to the purge queue only', () => {
    const queueArn = { 'Fn::GetAtt': [idOf(stack.purgeQueue), 'Arn'] };
    for (const handler of ['purge-channel', 'reconcile']) {
      expect(resources[functionId(handler)]!.Properties.Environment.Variables.PURGE_QUEUE_URL, handler).toEqual({ Ref: idOf(stack.purgeQueue) });
      const sendStatements = statementsOfRole(roleOf(handler)).filter((statement) => [statement.Action].flat().includes('sqs:SendMessage'));
      // Never a wildcard; the reconciler also sends to its own dead-letter queue (failed async invocations).
      for (const statement of sendStatements) expect(JSON.stringify(statement.Resource), handler).not.toContain('*');
      const sends = sendStatements.filter((statement) => JSON.stringify(statement.Resource) === JSON.stringify(queueArn));
      expect(sends, handler).toHaveLength(1);
      expect([sends[0].Action].flat().every((action: string) => ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'].includes(action)), handler).toBe(true);
    }
    // Neither role is shared with a function that has no business sending.
    const senders = new Set(['purge-channel', 'reconcile', ...purgeChannelFunction.enqueuedBy]);
    for (const [handler] of stack.functions) {
      if (senders.has(handler)) continue;
      expect([roleOf('purge-channel'), roleOf('reconcile')], handler).not.toContain(roleOf(handler));
    }
  });

  it('lets exactly the routes the purge function names send to the queue, and tells them its URL', () => {
    for (const route of table) {
      const sends = purgeChannelFunction.enqueuedBy.includes(route.handler as never);
      const variables = resources[functionId(route.handler)]!.Properties.Environment.Variables;
      expect('PURGE_QUEUE_URL' in variables, route.handler).toBe(sends);
      const actions = statementsOfRole(roleOf(route.handler)).flatMap((statement) => [statement.Action].flat());
      expect(actions.includes('sqs:SendMessage'), route.handler).toBe(sends);
    }
    expect(purgeChannelFunction.enqueuedBy).toEqual(['delete-channel']);
  });

  it('shares one execution role between functions granted the same things, and gives VPC functions the VPC policy', () => {
    const shared = table.filter((route) => !purgeChannelFunction.enqueuedBy.includes(route.handler as never));
    const byKey = new Map<string, Set<string>>();
    for (const route of shared) {
      // Publishing to the changes bus is a shared grant: recorders and non-recorders never share a role.
      const key = `${storesOf(route).sort().join()}|${route.secrets.join()}|${changeRecorders.includes(route.handler)}`;
      byKey.set(key, (byKey.get(key) ?? new Set()).add(roleOf(route.handler)));
    }
    for (const [key, roles] of byKey) expect(roles.size, key).toBe(1);
    const distinctRoles = new Set(table.map((route) => roleOf(route.handler)));
    expect(distinctRoles.size).toBeLessThan(10);
    for (const route of table) {
      const role = resources[roleOf(route.handler)]!.Properties;
      const inVpc = storesOf(route).some((store) => store === 'scylla' || store === 'postgres');
      expect(JSON.stringify(role.ManagedPolicyArns).includes('AWSLambdaVPCAccessExecutionRole'), route.handler).toBe(inVpc);
      expect(JSON.stringify(role.ManagedPolicyArns)).toContain('AWSLambdaBasicExecutionRole');
    }
  });

  it('stays well under the CloudFormation limit of 500 resources', () => {
    // With Aurora, its rotation and the Telegram webhook registration: ~440. 450 leaves room for a few routes;
    // past it, alarms move to metric math or functions to a nested stack.
    const count = Object.keys(resources).length;
    expect(count).toBeLessThanOrEqual(450);
  });
});
