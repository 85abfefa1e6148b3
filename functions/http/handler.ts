/**
 * The shared shell of every HTTP Lambda: middy built once at module scope, configuration validated at
 * start-up, the caller read from API Gateway's verified JWT claims, the JSON body and parameters validated,
 * and one mapping from errors to the API's error shape. Handlers stay parse → domain call → respond.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { principalFromClaims, type Principal } from '#lib/auth/principal.js';
import { getConfig, requireStores, type StoreName } from '#lib/config.js';
import { AppError, InvalidRequestError, PayloadTooLargeError, StoreUnavailableError } from '#lib/errors.js';
import { log } from '#lib/log.js';

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type HttpResult = APIGatewayProxyStructuredResultV2;

export const MAX_BODY_BYTES = 64 * 1024;

export interface Request<Body, Path, Query> {
  principal: Principal;
  body: Body;
  path: Path;
  query: Query;
  event: HttpEvent;
}

interface Spec<BodySchema extends z.ZodMiniType | undefined, PathSchema extends z.ZodMiniType | undefined, QuerySchema extends z.ZodMiniType | undefined> {
  /** Stores the handler uses: their settings are required at start-up. */
  stores: StoreName[];
  /** False for the health probes and the Telegram webhook, which API Gateway does not authorise. */
  auth?: boolean;
  /**
   * For writes: the caller's rate limit (`enforceWriteRate`, needs 'redis' among the stores). Passed in by
   * the write handlers so that other functions' bundles leave the Redis client out.
   */
  rateLimit?: (principal: Principal) => Promise<void>;
  body?: BodySchema;
  path?: PathSchema;
  query?: QuerySchema;
}

type Out<S> = S extends z.ZodMiniType ? z.output<S> : undefined;

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function noContent(): HttpResult {
  return { statusCode: 204, headers: {} };
}

export function errorResponse(error: unknown, requestId?: string): HttpResult {
  if (error instanceof AppError) {
    if (error instanceof StoreUnavailableError) log().warn('store unavailable', { store: error.store, detail: error.detail });
    return json(error.status, { error: { code: error.code, message: error.message } }, error.headers);
  }
  log().error('unhandled error', { error: error as Error, requestId });
  return json(500, { error: { code: 'internal', message: 'Something went wrong on our side' } });
}

function describeIssues(where: string, error: { issues: z.core.$ZodIssue[] }): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.length > 0 ? issue.path.join('.') : where;
      if (issue.code === 'unrecognized_keys') return `${where}: unknown field(s) ${issue.keys.join(', ')}`;
      if (issue.code === 'invalid_type') return `${field}: expected ${issue.expected}`;
      return `${field}: ${issue.message}`;
    })
    .join('; ');
}

function validate<S extends z.ZodMiniType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidRequestError(describeIssues(where, result.error));
  return result.data;
}

function decodeBody(event: HttpEvent): unknown {
  if (event.body === undefined || event.body === null || event.body === '') {
    throw new InvalidRequestError('A JSON body is required', 'invalid_json');
  }
  const contentType = String(event.headers?.['content-type'] ?? '').toLowerCase();
  if (!/^application\/(?:[\w.+-]+\+)?json\b/.test(contentType)) {
    throw new AppError(415, 'unsupported_media_type', 'Send the body as Content-Type: application/json');
  }
  const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidRequestError('The body is not valid UTF-8', 'invalid_json');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidRequestError('The body is not valid JSON', 'invalid_json');
  }
}

/** Decodes and validates a JSON body explicitly, for handlers that must check something else first. */
export function parseBody<S extends z.ZodMiniType>(event: HttpEvent, schema: S): z.output<S> {
  return validate(schema, decodeBody(event), 'body');
}

export function httpHandler<
  BodySchema extends z.ZodMiniType | undefined = undefined,
  PathSchema extends z.ZodMiniType | undefined = undefined,
  QuerySchema extends z.ZodMiniType | undefined = undefined,
>(
  spec: Spec<BodySchema, PathSchema, QuerySchema>,
  handle: (request: Request<Out<BodySchema>, Out<PathSchema>, Out<QuerySchema>>) => Promise<HttpResult>,
) {
  // At cold start: a wrong or missing setting fails the init with a message naming it.
  requireStores(getConfig(), spec.stores);
  if (spec.rateLimit && !spec.stores.includes('redis')) throw new Error('A rate-limited handler must declare the redis store');
  const handler = middy<HttpEvent, HttpResult, Error, Context>().handler(async (event, context) => {
    log().addContext(context);
    try {
      const principal =
        spec.auth === false
          ? { userId: '', isService: false }
          : principalFromClaims(event.requestContext?.authorizer?.jwt?.claims, event.requestContext?.authorizer?.jwt?.scopes);
      if (spec.rateLimit) await spec.rateLimit(principal);
      const request = {
        principal,
        path: (spec.path ? validate(spec.path, event.pathParameters ?? {}, 'path') : undefined) as Out<PathSchema>,
        query: (spec.query ? validate(spec.query, event.queryStringParameters ?? {}, 'query') : undefined) as Out<QuerySchema>,
        body: (spec.body ? validate(spec.body, decodeBody(event), 'body') : undefined) as Out<BodySchema>,
        event,
      };
      return await handle(request);
    } catch (error) {
      return errorResponse(error, context.awsRequestId);
    }
  });
  // Declared for the infrastructure test that checks the route table grants exactly these stores.
  return Object.assign(handler, { stores: spec.stores });
}
