/** The response shapes handlers build: JSON with a status, or an empty 204. */
import type { HttpResult } from './middleware/types.js';

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function noContent(): HttpResult {
  return { statusCode: 204, headers: {} };
}
