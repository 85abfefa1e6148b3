/**
 * The events AWS delivers to the functions, in the shapes of test/fixtures/aws-events: CloudFormation custom
 * resource requests (from the Provider framework), an EventBridge scheduled event, API Gateway HTTP API
 * payload 2.0 (test/support/apigw.ts), the WebSocket API's REQUEST authorizer and route events, an EventBridge
 * event of a change, and an SQS batch.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { apigwEvent, type EventInput } from '../support/apigw.js';
import { REHEARSAL_ACCOUNT as ACCOUNT, REHEARSAL_REGION as REGION } from './inputs.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'aws-events');

export type CfnRequestType = 'Create' | 'Update' | 'Delete';

/** What the Provider framework hands its onEvent function (the CloudFormation request, ResponseURL included). */
export function customResourceEvent(
  type: CfnRequestType,
  resource: { logicalId: string; resourceType: string; serviceToken: string; properties: Record<string, unknown>; stackName: string },
  physicalResourceId?: string,
  /** Update: the properties before the update (default: the same ones with `MigrationsHash: 'previous'`). */
  oldProperties?: Record<string, unknown>,
): Record<string, unknown> {
  const base = JSON.parse(readFileSync(join(fixtures, `cfn-custom-resource-${type.toLowerCase()}-event.json`), 'utf8')) as Record<string, unknown>;
  delete base.OldResourceProperties;
  delete base.PhysicalResourceId;
  const stackId = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${resource.stackName}/${randomUUID()}`;
  return {
    ...base,
    RequestType: type,
    ServiceToken: resource.serviceToken,
    ResponseURL: `https://cloudformation-custom-resource-response-${REGION}.s3.amazonaws.com/${encodeURIComponent(stackId)}?X-Amz-Signature=rehearsal`,
    StackId: stackId,
    RequestId: randomUUID(),
    ResourceType: resource.resourceType,
    LogicalResourceId: resource.logicalId,
    ResourceProperties: { ServiceToken: resource.serviceToken, ...resource.properties },
    ...(type === 'Create' ? {} : { PhysicalResourceId: physicalResourceId }),
    ...(type === 'Update' ? { OldResourceProperties: { ServiceToken: resource.serviceToken, ...(oldProperties ?? { ...resource.properties, MigrationsHash: 'previous' }) } } : {}),
  };
}

export function scheduledEvent(ruleArn: string): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: ACCOUNT,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources: [ruleArn],
    detail: {},
  };
}

/** A PutEvents entry as the rule's target receives it. */
export function eventBridgeEvent(entry: { Source?: string; DetailType?: string; Detail?: string; EventBusName?: string }): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': entry.DetailType,
    source: entry.Source,
    account: ACCOUNT,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources: [],
    detail: JSON.parse(entry.Detail ?? '{}') as unknown,
  };
}

export function sqsEvent(queueUrl: string, body: string): Record<string, unknown> {
  const queueName = queueUrl.split('/').pop()!;
  const now = String(Date.now());
  return {
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: `AQEB${Buffer.from(randomUUID()).toString('base64')}`,
        body,
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: now, SenderId: 'AROAREHEARSAL:rehearsal', ApproximateFirstReceiveTimestamp: now },
        messageAttributes: {},
        md5OfBody: createHash('md5').update(body).digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:${queueName}`,
        awsRegion: REGION,
      },
    ],
  };
}

/** An HTTP API request: path parameters decoded (as API Gateway passes them), the raw path encoded. */
export function httpEvent(input: EventInput & { apiId: string }): APIGatewayProxyEventV2WithJWTAuthorizer {
  const event = apigwEvent(input);
  const rawPath = input.route.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(input.params?.[name] ?? ''));
  const domainName = `${input.apiId}.execute-api.${REGION}.amazonaws.com`;
  event.rawPath = rawPath;
  event.requestContext.http.path = rawPath;
  event.requestContext.http.userAgent = 'deploy-rehearsal';
  event.requestContext.apiId = input.apiId;
  event.requestContext.accountId = ACCOUNT;
  event.requestContext.domainName = domainName;
  event.requestContext.domainPrefix = input.apiId;
  event.headers = { ...event.headers, host: domainName, 'user-agent': 'deploy-rehearsal', 'x-forwarded-proto': 'https' };
  if (!input.claims) {
    // A route without an authorizer gets no authorizer block.
    delete (event.requestContext as { authorizer?: unknown }).authorizer;
  }
  return event;
}

/** The claims API Gateway's JWT authorizer passes on: every value a string. */
export function jwtClaims(options: { sub: string; issuer: string; audience: string; scope?: string }): Record<string, string> {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: options.sub,
    iss: options.issuer,
    aud: options.audience,
    iat: String(now),
    exp: String(now + 3600),
    ...(options.scope ? { scope: options.scope } : {}),
  };
}

/** The WebSocket `$connect` REQUEST authorizer event (identity source: the `token` query parameter). */
export function webSocketAuthorizerEvent(apiId: string, token: string): Record<string, unknown> {
  const connectionId = `${randomUUID().slice(0, 12)}=`;
  return {
    type: 'REQUEST',
    methodArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${apiId}/live/$connect`,
    headers: { Host: `${apiId}.execute-api.${REGION}.amazonaws.com`, 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomUUID() },
    multiValueHeaders: {},
    queryStringParameters: { token },
    multiValueQueryStringParameters: { token: [token] },
    stageVariables: {},
    requestContext: {
      routeKey: '$connect',
      eventType: 'CONNECT',
      extendedRequestId: randomUUID(),
      requestTime: new Date().toUTCString(),
      messageDirection: 'IN',
      stage: 'live',
      connectedAt: Date.now(),
      requestTimeEpoch: Date.now(),
      identity: { sourceIp: '127.0.0.1', userAgent: 'deploy-rehearsal' },
      requestId: randomUUID(),
      domainName: `${apiId}.execute-api.${REGION}.amazonaws.com`,
      connectionId,
      apiId,
    },
  };
}

export function webSocketRouteEvent(
  apiId: string,
  routeKey: string,
  connectionId: string,
  authorizer: Record<string, unknown> | undefined,
  body?: string,
): Record<string, unknown> {
  const eventType = routeKey === '$connect' ? 'CONNECT' : routeKey === '$disconnect' ? 'DISCONNECT' : 'MESSAGE';
  return {
    requestContext: {
      routeKey,
      eventType,
      messageDirection: 'IN',
      stage: 'live',
      connectedAt: Date.now(),
      requestTimeEpoch: Date.now(),
      requestId: randomUUID(),
      domainName: `${apiId}.execute-api.${REGION}.amazonaws.com`,
      connectionId,
      apiId,
      ...(authorizer ? { authorizer } : {}),
    },
    isBase64Encoded: false,
    ...(body === undefined ? {} : { body }),
  };
}
