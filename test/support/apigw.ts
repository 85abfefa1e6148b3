/** API Gateway HTTP API (payload 2.0) events as AWS delivers them, for invoking handlers in-process. */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, Context } from 'aws-lambda';

export interface EventInput {
  method: string;
  /** The route as the table names it, e.g. `/channels/{channel_id}`. */
  route: string;
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
  claims?: Record<string, string>;
}

export function apigwEvent(input: EventInput): APIGatewayProxyEventV2WithJWTAuthorizer {
  const path = input.route.replace(/\{(\w+)\}/g, (_, name: string) => input.params?.[name] ?? '');
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: `${input.method} ${input.route}`,
    rawPath: path,
    rawQueryString: new URLSearchParams(input.query ?? {}).toString(),
    headers: { 'content-type': 'application/json', host: 'api.example.test', ...input.headers },
    queryStringParameters: input.query,
    pathParameters: input.params,
    requestContext: {
      accountId: '123456789012',
      apiId: 'bench',
      authorizer: { principalId: '', integrationLatency: 0, jwt: { claims: input.claims ?? {}, scopes: [] } },
      domainName: 'api.example.test',
      domainPrefix: 'api',
      http: { method: input.method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: randomUUID(),
      routeKey: `${input.method} ${input.route}`,
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    body: input.body === undefined ? undefined : typeof input.body === 'string' ? input.body : JSON.stringify(input.body),
    isBase64Encoded: false,
  };
}

export function lambdaContext(): Context {
  return {
    awsRequestId: randomUUID(),
    functionName: 'bench',
    getRemainingTimeInMillis: () => 10_000,
  } as unknown as Context;
}
