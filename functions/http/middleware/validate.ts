/**
 * Parses and validates the path parameters, query and JSON body against the route table's schemas, so a
 * handler only ever sees typed, valid input. Everything wrong with a request is a 4xx from here, before any
 * store is touched and before the rate limit spends the caller's quota.
 */
import type * as z from 'zod/mini';
import { AppError, InvalidRequestError, PayloadTooLargeError } from '#lib/errors.js';
import { stateOf, type HttpEvent, type PipelineMiddleware } from './types.js';

/** API Gateway accepts 10 MB; no request of this API needs more than this. */
export const MAX_BODY_BYTES = 64 * 1024;

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

function check(schema: z.ZodMiniType, value: unknown, where: string): unknown {
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

export function validate(schemas: { params?: z.ZodMiniType; query?: z.ZodMiniType; body?: z.ZodMiniType }): PipelineMiddleware {
  return {
    before: (request) => {
      const state = stateOf(request);
      const { event } = request;
      if (schemas.params) state.params = check(schemas.params, event.pathParameters ?? {}, 'path');
      if (schemas.query) state.query = check(schemas.query, event.queryStringParameters ?? {}, 'query');
      if (schemas.body) state.body = check(schemas.body, decodeBody(event), 'body');
    },
  };
}
