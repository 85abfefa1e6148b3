/** Real-time push on AWS: the changes bus, the WebSocket API, its stage and the fan-out (bundling skipped). */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { changeRecorders, fanOutFunction, indexMessagesFunction, webSocketRouteKeys, wsAuthorizerFunction, wsRoutesFunction } from '../../functions/routes.js';
import { MessagesStack, type MessagesStackProps } from '../../infra/cdk/messages-stack.js';
import { acknowledgeNagFindings, NAG_ACKNOWLEDGEMENTS } from '../../infra/cdk/nag.js';
import { CHANGE_EVENT_SOURCE, FAN_OUT_DELIVERY, INDEX_DELIVERY, WEBSOCKET_STAGE, WEBSOCKET_THROTTLE } from '../../infra/cdk/push.js';
import { exampleSettings } from './example-settings.js';

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };
const SETTINGS: MessagesStackProps['settings'] = exampleSettings();

function synth(id: string, settings: MessagesStackProps['settings'] = SETTINGS, env?: MessagesStackProps['env']) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new MessagesStack(app, id, { settings, env });
  const template = Template.fromStack(stack);
  return { app, stack, template, resources: template.toJSON().Resources as Record<string, Resource>, outputs: template.toJSON().Outputs as Record<string, any> };
}

let stack: MessagesStack;
let resources: Record<string, Resource>;
let outputs: Record<string, any>;
beforeAll(() => {
  ({ stack, resources, outputs } = synth('Push'));
});

const idOf = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
const functionId = (handler: string) => idOf(stack.functions.get(handler)!.function);
const roleOf = (handler: string): string => resources[functionId(handler)]!.Properties.Role['Fn::GetAtt'][0];
const statementsOfRole = (roleId: string) =>
  Object.values(resources)
    .filter((resource) => resource.Type === 'AWS::IAM::Policy' && resource.Properties.Roles.some((role: any) => role.Ref === roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as any[]);
const statementsWith = (handler: string, action: string) => statementsOfRole(roleOf(handler)).filter((statement) => [statement.Action].flat().includes(action));
const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
const webSocketApiId = () => idOf(stack.push.api);
const wsRoutes = () => ofType('AWS::ApiGatewayV2::Route').filter(([, route]) => route.Properties.ApiId.Ref === webSocketApiId());
/** An `Fn::Join` with `''` as text, its tokens as `{Ref:id}` / `{GetAtt:id}`. */
const joined = (value: any): string =>
  typeof value === 'string'
    ? value
    : (value['Fn::Join'][1] as any[])
        .map((part) => (typeof part === 'string' ? part : part.Ref ? `{Ref:${part.Ref}}` : part['Fn::GetAtt'] ? `{GetAtt:${part['Fn::GetAtt'].join('.')}}` : '{?}'))
        .join('');

describe('WebSocket API', () => {
  it('is a WebSocket API routing on the frame’s action, with the five route keys all on the one ws-routes Lambda', () => {
    const apis = ofType('AWS::ApiGatewayV2::Api').filter(([, api]) => api.Properties.ProtocolType === 'WEBSOCKET');
    expect(apis.map(([id]) => id)).toEqual([webSocketApiId()]);
    expect(apis[0]![1].Properties.RouteSelectionExpression).toBe('$request.body.action');

    const routes = wsRoutes();
    expect(routes.map(([, route]) => route.Properties.RouteKey).sort()).toEqual([...webSocketRouteKeys].sort());
    const targets = new Set(routes.map(([, route]) => JSON.stringify(route.Properties.Target)));
    expect(targets.size).toBe(1);
    const integrations = ofType('AWS::ApiGatewayV2::Integration').filter(([, integration]) => integration.Properties.ApiId.Ref === webSocketApiId());
    expect(integrations).toHaveLength(1);
    const [integrationId, integration] = integrations[0]!;
    expect(joined(routes[0]![1].Properties.Target)).toBe(`integrations/{Ref:${integrationId}}`);
    expect(integration.Properties.IntegrationType).toBe('AWS_PROXY');
    expect(joined(integration.Properties.IntegrationUri)).toContain(`{GetAtt:${functionId(wsRoutesFunction.handler)}.Arn}`);

    // API Gateway may invoke ws-routes for this API's route keys only.
    const permissions = ofType('AWS::Lambda::Permission').filter(([, permission]) => permission.Properties.FunctionName['Fn::GetAtt']?.[0] === functionId(wsRoutesFunction.handler));
    expect(permissions.map(([, permission]) => joined(permission.Properties.SourceArn).replace(/^.*\{Ref:[^}]+\}\//, '')).sort()).toEqual(
      webSocketRouteKeys.map((key) => `*${key}`).sort(),
    );
    for (const [, permission] of permissions) {
      expect(permission.Properties.Principal).toBe('apigateway.amazonaws.com');
      expect(joined(permission.Properties.SourceArn)).toContain(`{Ref:${webSocketApiId()}}`);
    }
  });

  it('authorises $connect, and only $connect, with the ws-authorizer Lambda reading the query-string token', () => {
    const authorizers = ofType('AWS::ApiGatewayV2::Authorizer').filter(([, authorizer]) => authorizer.Properties.ApiId.Ref === webSocketApiId());
    expect(authorizers).toHaveLength(1);
    const [authorizerId, authorizer] = authorizers[0]!;
    expect(authorizer.Properties).toMatchObject({ AuthorizerType: 'REQUEST', IdentitySource: ['route.request.querystring.token'] });
    expect(joined(authorizer.Properties.AuthorizerUri)).toContain(`{GetAtt:${functionId(wsAuthorizerFunction.handler)}.Arn}`);
    for (const [, route] of wsRoutes()) {
      if (route.Properties.RouteKey === '$connect') {
        expect(route.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId } });
      } else {
        expect(route.Properties.AuthorizationType ?? 'NONE', route.Properties.RouteKey).toBe('NONE');
        expect(route.Properties.AuthorizerId, route.Properties.RouteKey).toBeUndefined();
      }
    }
    const invoke = ofType('AWS::Lambda::Permission').find(([, permission]) => permission.Properties.FunctionName['Fn::GetAtt']?.[0] === functionId(wsAuthorizerFunction.handler));
    expect(joined(invoke![1].Properties.SourceArn)).toMatch(new RegExp(`\\{Ref:${webSocketApiId()}\\}/authorizers/\\{Ref:${authorizerId}\\}$`));
  });

  it('gives the authorizer the issuer and audience the HTTP API’s JWT authorizer uses, and nothing of the stores', () => {
    const check = (resourcesOf: Record<string, Resource>, handlerId: string) => {
      const jwt = Object.values(resourcesOf).find((resource) => resource.Type === 'AWS::ApiGatewayV2::Authorizer' && resource.Properties.AuthorizerType === 'JWT')!;
      const variables = resourcesOf[handlerId]!.Properties.Environment.Variables;
      expect(variables.JWT_ISSUER).toEqual(jwt.Properties.JwtConfiguration.Issuer);
      expect(variables.JWT_AUDIENCE).toEqual(jwt.Properties.JwtConfiguration.Audience[0]);
      return { variables, properties: resourcesOf[handlerId]!.Properties };
    };
    const { variables, properties } = check(resources, functionId(wsAuthorizerFunction.handler));
    expect(variables).toMatchObject({ JWT_ISSUER: SETTINGS.jwt.issuer, JWT_AUDIENCE: SETTINGS.jwt.audience });
    expect(Object.keys(variables).filter((name) => /SCYLLA|DATABASE|UPSTASH|CHANGES_BUS/.test(name))).toEqual([]);
    expect(properties.VpcConfig).toBeUndefined();
    expect(properties.Timeout).toBe(wsAuthorizerFunction.timeoutSeconds);

    // Other settings: both follow them.
    const other = synth('PushOtherIssuer', exampleSettings({ jwtIssuer: 'https://issuer.example/', jwtAudience: 'messages-api' }));
    const { variables: fromOther } = check(
      other.resources,
      other.stack.getLogicalId(other.stack.functions.get(wsAuthorizerFunction.handler)!.function.node.defaultChild as never),
    );
    expect(fromOther).toMatchObject({ JWT_ISSUER: 'https://issuer.example/', JWT_AUDIENCE: 'messages-api' });
  });

  it('wires ws-routes to Scylla, PostgreSQL and Redis as a route reaching them is, in the VPC', () => {
    const properties = resources[functionId(wsRoutesFunction.handler)]!.Properties;
    expect(properties.VpcConfig).toBeDefined();
    expect(properties.Environment.Variables).toMatchObject({
      SCYLLA_CONTACT_POINTS: SETTINGS.scylla.contactPoints.join(','),
      UPSTASH_REDIS_REST_URL: SETTINGS.upstash.url,
      SCYLLA_CREDENTIALS_SECRET_ARN: SETTINGS.scylla.credentialsSecretArn,
      DATABASE_URL_SECRET_ARN: { Ref: expect.stringMatching(/^DatabaseSecretAttachment/) },
      UPSTASH_REDIS_REST_TOKEN_SECRET_ARN: SETTINGS.upstash.tokenSecretArn,
    });
    expect(properties.Environment.Variables.CHANGES_BUS_NAME).toBeUndefined();
    expect(properties.MemorySize).toBe(wsRoutesFunction.memoryMb);
  });

  it(`serves stage ${WEBSOCKET_STAGE} with default route throttling and JSON access logs to a log group kept 30 days`, () => {
    const stages = ofType('AWS::ApiGatewayV2::Stage').filter(([, stage]) => stage.Properties.ApiId.Ref === webSocketApiId());
    expect(stages).toHaveLength(1);
    const stage = stages[0]![1];
    expect(stage.Properties).toMatchObject({
      StageName: WEBSOCKET_STAGE,
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: WEBSOCKET_THROTTLE.rateLimit, ThrottlingBurstLimit: WEBSOCKET_THROTTLE.burstLimit },
    });
    const logGroupId = idOf(stack.push.accessLogs);
    expect(stage.Properties.AccessLogSettings.DestinationArn).toEqual({ 'Fn::GetAtt': [logGroupId, 'Arn'] });
    expect(resources[logGroupId]!.Properties.RetentionInDays).toBe(30);
    const format = JSON.parse(stage.Properties.AccessLogSettings.Format) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      connectionId: '$context.connectionId',
      eventType: '$context.eventType',
      routeKey: '$context.routeKey',
      status: '$context.status',
      authorizerError: '$context.authorizer.error',
    });
    // A WebSocket stage logs through API Gateway's account-level CloudWatch role: set before the stage.
    const accounts = ofType('AWS::ApiGateway::Account');
    expect(accounts).toHaveLength(1);
    const roleId = accounts[0]![1].Properties.CloudWatchRoleArn['Fn::GetAtt'][0];
    expect(JSON.stringify(resources[roleId]!.Properties.AssumeRolePolicyDocument)).toContain('apigateway.amazonaws.com');
    expect(JSON.stringify(resources[roleId]!.Properties.ManagedPolicyArns)).toContain('AmazonAPIGatewayPushToCloudWatchLogs');
    expect(stage.DependsOn).toContain(accounts[0]![0]);
  });

  it('leaves the account-level logging role alone with apiGatewayCloudWatchRole false', () => {
    const { resources: without } = synth('PushNoAccountRole', { ...SETTINGS, apiGatewayCloudWatchRole: false });
    expect(Object.values(without).filter((resource) => resource.Type === 'AWS::ApiGateway::Account')).toHaveLength(0);
    const stage = Object.values(without).find((resource) => resource.Type === 'AWS::ApiGatewayV2::Stage' && resource.Properties.StageName === WEBSOCKET_STAGE)!;
    expect(stage.Properties.AccessLogSettings).toBeDefined();
  });
});

describe('changes bus and fan-out', () => {
  it(`sends every event with source ${CHANGE_EVENT_SOURCE} on the changes bus to the fan-out, with bounded retries into an alarmed dead-letter queue`, () => {
    const busId = idOf(stack.changesBus);
    expect(resources[busId]!.Type).toBe('AWS::Events::EventBus');
    // The bus's rules: this one (every change, to the fan-out) and the search indexer's (message changes only).
    const rules = ofType('AWS::Events::Rule').filter(([, rule]) => rule.Properties.EventBusName && JSON.stringify(rule.Properties.Targets).includes(functionId(fanOutFunction.handler)));
    expect(rules).toHaveLength(1);
    expect(ofType('AWS::Events::Rule').filter(([, rule]) => rule.Properties.EventBusName)).toHaveLength(2);
    const rule = rules[0]![1].Properties;
    expect(rule.EventBusName).toEqual({ Ref: busId });
    expect(rule.EventPattern).toEqual({ source: [CHANGE_EVENT_SOURCE] });
    expect(CHANGE_EVENT_SOURCE).toBe('messages');
    const queueId = idOf(stack.push.deadLetterQueue);
    expect(rule.Targets).toHaveLength(1);
    expect(rule.Targets[0]).toMatchObject({
      Arn: { 'Fn::GetAtt': [functionId(fanOutFunction.handler), 'Arn'] },
      RetryPolicy: { MaximumRetryAttempts: FAN_OUT_DELIVERY.targetRetryAttempts, MaximumEventAgeInSeconds: FAN_OUT_DELIVERY.maxEventAge.toSeconds() },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
    });
    expect(FAN_OUT_DELIVERY.targetRetryAttempts).toBeLessThanOrEqual(5);

    // Invocations that fail in the function are retried a bounded number of times, then land in the same queue.
    const fanOut = resources[functionId(fanOutFunction.handler)]!.Properties;
    expect(fanOut.DeadLetterConfig).toEqual({ TargetArn: { 'Fn::GetAtt': [queueId, 'Arn'] } });
    const invokeConfigs = ofType('AWS::Lambda::EventInvokeConfig').filter(([, config]) => config.Properties.FunctionName.Ref === functionId(fanOutFunction.handler));
    expect(invokeConfigs).toHaveLength(1);
    expect(invokeConfigs[0]![1].Properties).toMatchObject({ MaximumRetryAttempts: FAN_OUT_DELIVERY.functionRetryAttempts, MaximumEventAgeInSeconds: FAN_OUT_DELIVERY.maxEventAge.toSeconds() });

    // The queue is encrypted, TLS-only, alarmed, and EventBridge may send to it for this rule only.
    expect(stack.observability.deadLetterQueues.map(idOf)).toContain(queueId);
    expect(resources[queueId]!.Properties.SqsManagedSseEnabled).toBe(true);
    const alarms = ofType('AWS::CloudWatch::Alarm').filter(
      ([, alarm]) => alarm.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' && JSON.stringify(alarm.Properties.Dimensions).includes(`"${queueId}"`),
    );
    expect(alarms).toHaveLength(1);
    const policy = ofType('AWS::SQS::QueuePolicy').find(([, queuePolicy]) => JSON.stringify(queuePolicy.Properties.Queues).includes(queueId))![1];
    const fromEvents = (policy.Properties.PolicyDocument.Statement as any[]).filter((statement) => statement.Principal?.Service === 'events.amazonaws.com');
    expect(fromEvents).toHaveLength(1);
    expect(fromEvents[0].Condition.ArnEquals['aws:SourceArn']).toEqual({ 'Fn::GetAtt': [rules[0]![0], 'Arn'] });
  });

  it('sends the message changes, and only those, to the search indexer, in the VPC with Scylla and PostgreSQL, with bounded retries into an alarmed dead-letter queue', () => {
    const indexer = functionId(indexMessagesFunction.handler);
    const rules = ofType('AWS::Events::Rule').filter(([, rule]) => JSON.stringify(rule.Properties.Targets ?? []).includes(`"${indexer}"`));
    expect(rules).toHaveLength(1);
    const rule = rules[0]![1].Properties;
    expect(rule.EventBusName).toEqual({ Ref: idOf(stack.changesBus) });
    expect(rule.EventPattern).toEqual({ source: [CHANGE_EVENT_SOURCE], 'detail-type': ['message.created', 'message.updated', 'message.deleted'] });
    const queueArn = rule.Targets[0].DeadLetterConfig.Arn;
    const queueId = queueArn['Fn::GetAtt'][0] as string;
    expect(rule.Targets[0]).toMatchObject({
      Arn: { 'Fn::GetAtt': [indexer, 'Arn'] },
      RetryPolicy: { MaximumRetryAttempts: INDEX_DELIVERY.targetRetryAttempts, MaximumEventAgeInSeconds: INDEX_DELIVERY.maxEventAge.toSeconds() },
    });
    const properties = resources[indexer]!.Properties;
    expect(properties.DeadLetterConfig).toEqual({ TargetArn: queueArn });
    expect(properties.VpcConfig).toBeDefined();
    expect(Object.keys(properties.Environment.Variables)).toEqual(expect.arrayContaining(['SCYLLA_CONTACT_POINTS', 'DATABASE_URL_SECRET_ARN']));
    expect(Object.keys(properties.Environment.Variables)).not.toContain('CHANGES_BUS_NAME');
    expect(stack.observability.deadLetterQueues.map(idOf)).toContain(queueId);
    const invokeConfigs = ofType('AWS::Lambda::EventInvokeConfig').filter(([, config]) => config.Properties.FunctionName.Ref === indexer);
    expect(invokeConfigs[0]![1].Properties).toMatchObject({ MaximumRetryAttempts: INDEX_DELIVERY.functionRetryAttempts, MaximumEventAgeInSeconds: INDEX_DELIVERY.maxEventAge.toSeconds() });
  });

  it('wires the fan-out to Redis only, outside the VPC, with the management endpoint of this API’s stage', () => {
    const properties = resources[functionId(fanOutFunction.handler)]!.Properties;
    expect(properties.VpcConfig).toBeUndefined();
    expect(properties.Timeout).toBe(fanOutFunction.timeoutSeconds);
    expect(properties.MemorySize).toBe(fanOutFunction.memoryMb);
    const variables = properties.Environment.Variables;
    expect(variables.UPSTASH_REDIS_REST_TOKEN_SECRET_ARN).toBe(SETTINGS.upstash.tokenSecretArn);
    expect(variables.SCYLLA_CREDENTIALS_SECRET_ARN).toBeUndefined();
    expect(variables.DATABASE_URL_SECRET_ARN).toBeUndefined();
    expect(joined(variables.WS_MANAGEMENT_ENDPOINT)).toBe(`https://{Ref:${webSocketApiId()}}.execute-api.{Ref:AWS::Region}.{Ref:AWS::URLSuffix}/${WEBSOCKET_STAGE}`);
  });

  it('lets the fan-out manage connections of this API’s stage only (POST and DELETE), and ws-routes only post', () => {
    const arnOf = (method: string) => `arn:{Ref:AWS::Partition}:execute-api:{Ref:AWS::Region}:{Ref:AWS::AccountId}:{Ref:${webSocketApiId()}}/${WEBSOCKET_STAGE}/${method}/@connections/*`;
    const manageResources = (handler: string) => statementsWith(handler, 'execute-api:ManageConnections').flatMap((statement) => [statement.Resource].flat().map(joined));
    expect(manageResources(fanOutFunction.handler).sort()).toEqual([arnOf('DELETE'), arnOf('POST')].sort());
    expect(manageResources(wsRoutesFunction.handler)).toEqual([arnOf('POST')]);
    // Nothing else may manage connections, and no grant names every API or every stage.
    for (const [handler] of stack.functions) {
      const granted = manageResources(handler);
      for (const arn of granted) expect(arn, handler).not.toMatch(/^\*$|:\*\/|\/\*\/\*\//);
      if (handler !== fanOutFunction.handler && handler !== wsRoutesFunction.handler) expect(granted, handler).toEqual([]);
    }
    // Their roles are their own.
    for (const handler of [fanOutFunction.handler, wsRoutesFunction.handler]) {
      const sharing = [...stack.functions.keys()].filter((other) => other !== handler && roleOf(other) === roleOf(handler));
      expect(sharing, handler).toEqual([]);
    }
  });

  it('lets exactly the change recorders put events, on the changes bus only, and tells them its name', () => {
    const busArn = { 'Fn::GetAtt': [idOf(stack.changesBus), 'Arn'] };
    expect(changeRecorders).toContain('create-message');
    expect(changeRecorders).toContain('reconcile');
    expect(changeRecorders).not.toContain('list-messages');
    for (const [handler] of stack.functions) {
      const records = changeRecorders.includes(handler);
      const variables = resources[functionId(handler)]!.Properties.Environment.Variables;
      expect(variables.CHANGES_BUS_NAME, handler).toEqual(records ? { Ref: idOf(stack.changesBus) } : undefined);
      const puts = statementsWith(handler, 'events:PutEvents');
      expect(puts.length, handler).toBe(records ? 1 : 0);
      for (const statement of puts) expect(statement.Resource, handler).toEqual(busArn);
    }
    // Roles are shared, so a recorder never shares one with a function that does not record.
    const recorderRoles = new Set(changeRecorders.map(roleOf));
    for (const [handler] of stack.functions) {
      if (!changeRecorders.includes(handler)) expect(recorderRoles.has(roleOf(handler)), handler).toBe(false);
    }
    expect(roleOf('create-message')).not.toBe(roleOf('list-messages'));
    expect(roleOf('create-message')).not.toBe(roleOf('create-channel'));
  });

  it('outputs the WebSocket URL and the bus name', () => {
    expect(joined(outputs.WebSocketUrl.Value)).toBe(`wss://{Ref:${webSocketApiId()}}.execute-api.{Ref:AWS::Region}.{Ref:AWS::URLSuffix}/${WEBSOCKET_STAGE}`);
    expect(outputs.ChangesBusName.Value).toEqual({ Ref: idOf(stack.changesBus) });
  });

  it('alarms to the alarm topic on fan-out errors, and shows push on the dashboard', () => {
    const topic = { Ref: idOf(stack.alarmTopic) };
    for (const handler of [fanOutFunction.handler, wsRoutesFunction.handler, wsAuthorizerFunction.handler]) {
      const errors = ofType('AWS::CloudWatch::Alarm').filter(
        ([, alarm]) =>
          alarm.Properties.Namespace === 'AWS/Lambda' &&
          alarm.Properties.MetricName === 'Errors' &&
          JSON.stringify(alarm.Properties.Dimensions) === JSON.stringify([{ Name: 'FunctionName', Value: { Ref: functionId(handler) } }]),
      );
      expect(errors, handler).toHaveLength(1);
      expect(errors[0]![1].Properties).toMatchObject({ Threshold: 1, AlarmActions: [topic] });
    }
    const dashboard = JSON.stringify(ofType('AWS::CloudWatch::Dashboard')[0]![1].Properties.DashboardBody);
    for (const metric of ['PushDelivered', 'PushGone', 'PushFailed', 'ChangePublishFailed']) expect(dashboard).toContain(metric);
  });
});

describe('cdk-nag', () => {
  it('finds nothing unacknowledged on push, in a concrete environment too, and the acknowledged connection wildcards name this API’s stage only', () => {
    // `cdk synth` resolves the region (and the account, with credentials); nag.test.ts checks the stack without.
    const { app, stack: nagged } = synth('PushNag', SETTINGS, { account: '123456789012', region: 'eu-west-1' });
    const acknowledged = new Set(acknowledgeNagFindings(nagged).map((entry) => entry.id));
    // Every finding over the whole stack, by rule, with the constructs it names.
    const findings = new AwsSolutionsChecks(app).validateScope(nagged).violations.map((violation) => ({
      rule: `AwsSolutions::${violation.ruleName}`,
      paths: violation.violatingResources.map((resource) => resource.constructPath ?? resource.resourceLogicalId ?? ''),
    }));
    expect(findings.filter(({ rule }) => !acknowledged.has(rule)).map(({ rule, paths }) => `${rule}: ${paths.join(', ')}`)).toEqual([]);

    // What push itself is acknowledged for: routes after $connect carry no authorizer (API Gateway allows one on
    // $connect only), AWS-managed role policies, X-Ray's `*`, the connection ids, the Node runtime.
    const pushConstructs = /^PushNag\/(WebSocketApi|WebSocketStage|WebSocketAccessLogs|WsAuthorizer|WsRoutes|FanOut|ChangesBus|ChangesToFanOut|ApiGateway(CloudWatchRole|Account))\b/;
    const pushRules = findings.filter(({ paths }) => paths.some((path) => pushConstructs.test(path))).map(({ rule }) => rule.replace(/^AwsSolutions::AwsSolutions-/, ''));
    expect(pushRules.sort()).toEqual(
      [
        'APIG4',
        'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'IAM5[Resource::*]',
        ...['POST', 'DELETE'].map((method) => `IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<WebSocketApi34BCF99B>/${WEBSOCKET_STAGE}/${method}/@connections/*]`),
        'L1',
      ].sort(),
    );
    const unauthorised = findings.find(({ rule }) => rule.endsWith('APIG4'))!.paths.filter((path) => path.startsWith('PushNag/WebSocketApi/'));
    expect(unauthorised.map((path) => path.split('/')[2]).sort()).toEqual(webSocketRouteKeys.filter((key) => key !== '$connect').map((key) => `${key}-Route`).sort());
    // The only `*` resource push's roles have is X-Ray's.
    for (const handler of [fanOutFunction.handler, wsRoutesFunction.handler]) {
      const everything = statementsOfRole(roleOf(handler)).filter((statement) => statement.Resource === '*');
      expect(everything.flatMap((statement) => [statement.Action].flat()).every((action: string) => action.startsWith('xray:')), handler).toBe(true);
    }

    const connectionAcknowledgements = NAG_ACKNOWLEDGEMENTS.filter((entry) => entry.id.includes('execute-api'));
    expect(connectionAcknowledgements.map((entry) => entry.id)).toEqual(
      ['POST', 'DELETE'].map(
        (method) =>
          `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${nagged.getLogicalId(nagged.push.api.node.defaultChild as never)}>/${WEBSOCKET_STAGE}/${method}/@connections/*]`,
      ),
    );
  });
});
