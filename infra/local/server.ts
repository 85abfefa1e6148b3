/**
 * The local API: each HTTP request becomes the API Gateway HTTP API (payload v2.0) event the deployed API
 * would deliver, is passed to the same handler a Lambda runs (chosen by the same route table), and the
 * handler's result is written back. Tokens are verified here as the JWT authorizer does in AWS.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { matchRoute, type Route } from '../../functions/routes.js';
import { publicJwks, verifyBearer } from './jwt.js';
import { attachWebSockets } from './websocket.js';

/** API Gateway's own payload limit. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

type Handler = (event: unknown, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
const handlers = new Map<string, Promise<Handler>>();

function loadHandler(route: Route): Promise<Handler> {
  let pending = handlers.get(route.handler);
  if (!pending) {
    pending = import(`../../functions/${route.handler}.ts`).then((module: { handler: Handler }) => module.handler);
    handlers.set(route.handler, pending);
  }
  return pending;
}

function lambdaContext(route: Route, requestId: string): Context {
  const deadline = Date.now() + route.timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `local-${route.handler}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:local-${route.handler}`,
    memoryLimitInMB: String(route.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/local-${route.handler}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Header names lower-cased and repeated values comma-joined, as API Gateway v2 delivers them. */
function eventHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

/** Query parameters with repeated names comma-joined, as API Gateway v2 delivers them. */
function queryParameters(search: URLSearchParams): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [name, value] of search) params[name] = name in params ? `${params[name]},${value}` : value;
  return Object.keys(params).length > 0 ? params : undefined;
}

function decodeParams(params: Record<string, string>): Record<string, string> | undefined {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    try {
      decoded[name] = decodeURIComponent(value);
    } catch {
      decoded[name] = value;
    }
  }
  return Object.keys(decoded).length > 0 ? decoded : undefined;
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

export interface ApiServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function startApiServer(options: { port?: number; host?: string } = {}): Promise<ApiServer> {
  const server = createServer((request, response) => {
    void (async () => {
      const started = Date.now();
      const requestId = randomUUID();
      const url = new URL(request.url ?? '/', 'http://local');
      const method = (request.method ?? 'GET').toUpperCase();
      const send = (status: number, headers: Record<string, string>, body: string | Buffer = '') => {
        response.writeHead(status, { 'apigw-requestid': requestId, ...headers });
        response.end(body);
      };
      if (method === 'GET' && url.pathname === '/.well-known/jwks.json') {
        send(200, { 'content-type': 'application/json' }, JSON.stringify(await publicJwks()));
        return;
      }
      const matched = matchRoute(method, url.pathname);
      if (!matched) {
        send(404, { 'content-type': 'application/json' }, errorBody('not_found', `No route for ${method} ${url.pathname}`));
        return;
      }
      const { route, params } = matched;
      let authorizer: { jwt: { claims: Record<string, string>; scopes: string[] | null } } | undefined;
      if (route.auth === 'jwt') {
        try {
          authorizer = { jwt: await verifyBearer(request.headers.authorization) };
        } catch {
          send(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }, errorBody('unauthorized', 'A valid bearer token is required'));
          return;
        }
      }
      const body = await readBody(request);
      if (body === 'too-large') {
        send(413, { 'content-type': 'application/json' }, errorBody('payload_too_large', 'The request body is too large'));
        return;
      }
      const headers = eventHeaders(request);
      const contentType = headers['content-type'] ?? '';
      // API Gateway passes text bodies as they are and base64-encodes the rest; bytes that are not UTF-8
      // cannot travel as text, so they go base64-encoded too and the handler sees them as they were.
      const isText = /^(application\/(json|[\w.+-]+\+json|x-www-form-urlencoded)|text\/)/i.test(contentType) && isUtf8(body);
      const now = new Date();
      const event = {
        version: '2.0',
        routeKey: `${route.method} ${route.path}`,
        // HTTP APIs deliver the path percent-decoded, as they do path parameters.
        rawPath: decodeParams({ path: url.pathname })?.path ?? url.pathname,
        rawQueryString: url.search.slice(1),
        cookies: headers.cookie ? headers.cookie.split(/;\s*/) : undefined,
        headers,
        queryStringParameters: queryParameters(url.searchParams),
        pathParameters: decodeParams(params),
        requestContext: {
          accountId: '000000000000',
          apiId: 'local',
          ...(authorizer ? { authorizer } : {}),
          domainName: headers.host ?? '127.0.0.1',
          domainPrefix: 'local',
          http: {
            method,
            path: url.pathname,
            protocol: `HTTP/${request.httpVersion}`,
            sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
            userAgent: headers['user-agent'] ?? '',
          },
          requestId,
          routeKey: `${route.method} ${route.path}`,
          stage: '$default',
          time: now.toISOString(),
          timeEpoch: now.getTime(),
        },
        body: body.length === 0 ? undefined : isText ? body.toString('utf8') : body.toString('base64'),
        isBase64Encoded: body.length > 0 && !isText,
      };
      const handler = await loadHandler(route);
      const result = await handler(event, lambdaContext(route, requestId));
      const responseBody = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? '');
      const responseHeaders = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
      send(result.statusCode ?? 200, responseHeaders, responseBody);
      if (process.env.LOCAL_ACCESS_LOG === '1') {
        console.error(`${method} ${url.pathname} ${result.statusCode} ${Date.now() - started}ms`);
      }
    })().catch((error: unknown) => {
      // What API Gateway does when the Lambda itself fails (the pipeline answers every error it can catch).
      console.error('local server: handler crashed', error);
      if (!response.headersSent) {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: 'Internal Server Error' }));
      }
    });
  });
  server.keepAliveTimeout = 5000;
  const webSockets = attachWebSockets(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    server,
    close: async () => {
      await webSockets.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
