/**
 * Real-time push on AWS (API.md, "Real-time push"): the API Gateway WebSocket API (its `$connect` authorised
 * by the ws-authorizer Lambda, every route key served by the ws-routes Lambda), its stage with throttling
 * and access logs, and the EventBridge rule on the changes bus that invokes the fan-out, which posts each
 * change to the connections listening to its channel through this API's management endpoint.
 *
 * Not a construct of its own (like observability.ts): everything is created directly in the stack. The
 * changes bus itself is made by the stack, before the functions that publish to it.
 */
import { Aws, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import { CfnStage, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { fanOutFunction, webSocketRouteKeys, wsAuthorizerFunction, wsRoutesFunction } from '../../functions/routes.js';
import type { FunctionRoles } from './function-roles.js';
import { roleKey } from './function-roles.js';
import { OperationFunction, type StoreWiring, type Telemetry } from './operation-function.js';

/** The stage clients connect to: `wss://{api}.execute-api.{region}.{suffix}/live`. */
export const WEBSOCKET_STAGE = 'live';
/**
 * Every route key's default throttling (connects and client frames; frames the fan-out posts are not
 * counted): clients send a few subscribe frames after connecting, so this bounds a reconnect storm and a
 * misbehaving client well below the account's WebSocket quotas.
 */
export const WEBSOCKET_THROTTLE = { rateLimit: 200, burstLimit: 400 };
/** The `source` of every change event the recorders put on the bus (lib/events/event-bridge.ts). */
export const CHANGE_EVENT_SOURCE = 'messages';
/**
 * A push is worth little once it is late (clients converge from the changes feed), so delivery is bounded:
 * EventBridge retries an undeliverable invocation for at most this long and this many times, Lambda retries a
 * failed one this many times within the same age; what is still undelivered goes to the dead-letter queue.
 */
export const FAN_OUT_DELIVERY = { targetRetryAttempts: 3, functionRetryAttempts: 1, maxEventAge: Duration.minutes(5) };
/**
 * The search indexer's delivery (functions/index-messages.ts): an index write is worth doing late, but the
 * reconciler's sweep of the search outbox applies every message within minutes anyway, so delivery is bounded
 * the same way as the fan-out's; what is still undelivered goes to the indexer's dead-letter queue.
 */
export const INDEX_DELIVERY = { targetRetryAttempts: 3, functionRetryAttempts: 2, maxEventAge: Duration.minutes(10) };
/** `execute-api:ManageConnections` the fan-out may use: post a frame, close a connection (no GET: it never reads one). */
const FAN_OUT_CONNECTION_METHODS = ['POST', 'DELETE'];
/** The ws-routes function answers a client's frame (subscribed, unsubscribed, error) by posting it. */
const WS_ROUTES_CONNECTION_METHODS = ['POST'];

export interface RealtimePushProps {
  wiring: StoreWiring;
  telemetry: Telemetry;
  logRetention: logs.RetentionDays;
  roles: FunctionRoles;
  /** The same issuer and audience the HTTP API's JWT authorizer accepts (CloudFormation parameters allowed). */
  jwtIssuer: string;
  jwtAudience: string;
  changesBus: events.IEventBus;
  /** The stack's dead-letter queue factory (alarmed, on the dashboard). */
  addDeadLetterQueue: (id: string, purpose: string) => sqs.Queue;
  /**
   * Set API Gateway's account-wide CloudWatch Logs role (AWS::ApiGateway::Account), which a WebSocket stage
   * needs before it may log. false: the account already has one, managed elsewhere.
   */
  accountLogRole: boolean;
}

export interface RealtimePush {
  api: WebSocketApi;
  stage: WebSocketStage;
  accessLogs: logs.LogGroup;
  authorizer: OperationFunction;
  routes: OperationFunction;
  fanOut: OperationFunction;
  rule: events.Rule;
  deadLetterQueue: sqs.Queue;
  /** https://{api}.execute-api.{region}.{suffix}/live: where frames are posted to connections. */
  managementEndpoint: string;
}

/**
 * `execute-api:ManageConnections` on this API's stage only, for the given methods of `@connections`. Region and
 * account are always the pseudo parameters (as they are without an environment), so the ARN, and the cdk-nag
 * acknowledgement that names it, do not depend on where the stack is synthesised.
 */
export function connectionsArns(api: WebSocketApi, stageName: string, methods: readonly string[]): string[] {
  return methods.map((method) =>
    Stack.of(api).formatArn({
      service: 'execute-api',
      region: Aws.REGION,
      account: Aws.ACCOUNT_ID,
      resource: api.apiId,
      resourceName: `${stageName}/${method}/@connections/*`,
    }),
  );
}

export function buildRealtimePush(stack: Stack, props: RealtimePushProps): RealtimePush {
  const { wiring, telemetry, logRetention, roles } = props;

  const authorizer = new OperationFunction(stack, 'WsAuthorizer', {
    ...wsAuthorizerFunction,
    wiring,
    telemetry,
    logRetention,
    // Nothing of its own to be granted: it shares the role of the functions that reach no store.
    role: roles.roleFor(roleKey(wsAuthorizerFunction.stores, wsAuthorizerFunction.secrets), OperationFunction.needsVpc(wsAuthorizerFunction.stores)),
    environment: { JWT_ISSUER: props.jwtIssuer, JWT_AUDIENCE: props.jwtAudience },
  });

  const api = new WebSocketApi(stack, 'WebSocketApi', {
    description: 'Real-time push of channel changes (API.md, "Real-time push")',
  });
  const stage = new WebSocketStage(stack, 'WebSocketStage', {
    webSocketApi: api,
    stageName: WEBSOCKET_STAGE,
    autoDeploy: true,
    throttle: WEBSOCKET_THROTTLE,
  });
  const managementEndpoint = stage.callbackUrl;

  // Answering a frame posts to the connection (through the endpoint the event names), so it may post here.
  const routes = new OperationFunction(stack, 'WsRoutes', {
    ...wsRoutesFunction,
    wiring,
    telemetry,
    logRetention,
  });
  routes.function.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['execute-api:ManageConnections'], resources: connectionsArns(api, WEBSOCKET_STAGE, WS_ROUTES_CONNECTION_METHODS) }),
  );

  // One integration (one Lambda) for every route key; API Gateway allows an authorizer on $connect only.
  const integration = new WebSocketLambdaIntegration('WsRoutesIntegration', routes.function);
  const connectAuthorizer = new WebSocketLambdaAuthorizer('WsJwt', authorizer.function, {
    // API.md also allows the token in Sec-WebSocket-Protocol; API Gateway refuses (401) a $connect without
    // every identity source before calling the authorizer, so only the query string is named here.
    identitySource: ['route.request.querystring.token'],
  });
  for (const routeKey of webSocketRouteKeys) {
    api.addRoute(routeKey, { integration, ...(routeKey === '$connect' ? { authorizer: connectAuthorizer } : {}) });
  }

  const accessLogs = new logs.LogGroup(stack, 'WebSocketAccessLogs', { retention: logRetention });
  const cfnStage = stage.node.defaultChild as CfnStage;
  cfnStage.accessLogSettings = {
    destinationArn: accessLogs.logGroupArn,
    format: JSON.stringify({
      requestId: '$context.requestId',
      connectionId: '$context.connectionId',
      eventType: '$context.eventType',
      routeKey: '$context.routeKey',
      status: '$context.status',
      requestTimeEpoch: '$context.requestTimeEpoch',
      integrationLatencyMs: '$context.integration.latency',
      error: '$context.error.message',
      authorizerError: '$context.authorizer.error',
      sourceIp: '$context.identity.sourceIp',
    }),
  };
  if (props.accountLogRole) {
    // Unlike an HTTP API, a WebSocket stage logs through API Gateway's account-level CloudWatch role, and
    // CloudFormation refuses the stage's log settings until that role is set (one per account and region).
    const cloudWatchRole = new iam.Role(stack, 'ApiGatewayCloudWatchRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: "API Gateway's account-wide role for writing API logs to CloudWatch Logs",
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs')],
    });
    const account = new apigateway.CfnAccount(stack, 'ApiGatewayAccount', { cloudWatchRoleArn: cloudWatchRole.roleArn });
    stage.node.addDependency(account);
  }

  // Changes EventBridge could not deliver, or the fan-out failed on every attempt, land here.
  const deadLetterQueue = props.addDeadLetterQueue('FanOutDeadLetterQueue', 'changes that were never pushed to WebSocket clients (they recover them from the changes feed)');
  const fanOut = new OperationFunction(stack, 'FanOut', {
    ...fanOutFunction,
    wiring,
    telemetry,
    logRetention,
    deadLetterQueue,
    retryAttempts: FAN_OUT_DELIVERY.functionRetryAttempts,
    maxEventAge: FAN_OUT_DELIVERY.maxEventAge,
    environment: { WS_MANAGEMENT_ENDPOINT: managementEndpoint },
  });
  fanOut.function.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['execute-api:ManageConnections'], resources: connectionsArns(api, WEBSOCKET_STAGE, FAN_OUT_CONNECTION_METHODS) }),
  );
  const rule = new events.Rule(stack, 'ChangesToFanOut', {
    description: 'Every change recorded by the message store, to the WebSocket fan-out',
    eventBus: props.changesBus,
    eventPattern: { source: [CHANGE_EVENT_SOURCE] },
    targets: [
      new targets.LambdaFunction(fanOut.function, {
        retryAttempts: FAN_OUT_DELIVERY.targetRetryAttempts,
        maxEventAge: FAN_OUT_DELIVERY.maxEventAge,
        deadLetterQueue,
      }),
    ],
  });

  new CfnOutput(stack, 'WebSocketUrl', { value: stage.url, description: 'Connect with ?token=<JWT> (API.md, "Real-time push")' });
  return { api, stage, accessLogs, authorizer, routes, fanOut, rule, deadLetterQueue, managementEndpoint };
}
