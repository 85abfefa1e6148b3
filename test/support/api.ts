/** Drives the local server (the same handlers and route table as the Lambdas) over real HTTP. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import { mintToken } from '../../infra/local/jwt.js';
import { startApiServer, type ApiServer } from '../../infra/local/server.js';
import { checkHttpResponse } from './openapi-check.js';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export class ApiClient {
  constructor(
    private readonly baseUrl: () => string,
    readonly token: string | undefined,
    readonly userId: string,
  ) {}

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const response = await fetch(`${this.baseUrl()}${path}`, {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* non-JSON bodies (the docs page) stay text */
    }
    // Every response must be one the OpenAPI document describes (status and body): see openapi-check.ts.
    checkHttpResponse(method, path, response.status, response.headers.get('content-type'), parsed);
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  get<T = any>(path: string) {
    return this.request<T>('GET', path);
  }
  post<T = any>(path: string, body?: unknown) {
    return this.request<T>('POST', path, body);
  }
  put<T = any>(path: string, body?: unknown) {
    return this.request<T>('PUT', path, body);
  }
  patch<T = any>(path: string, body?: unknown) {
    return this.request<T>('PATCH', path, body);
  }
  delete<T = any>(path: string) {
    return this.request<T>('DELETE', path);
  }
}

/** Starts the local server for one test file and hands out clients for fresh users. */
export function useLocalApi() {
  let server: ApiServer | undefined;
  beforeAll(async () => {
    server = await startApiServer();
  });
  afterAll(async () => {
    await server?.close();
  });
  const baseUrl = () => {
    if (!server) throw new Error('the local server is not running yet');
    return server.url;
  };
  return {
    baseUrl,
    async user(options: { scope?: string; userId?: string } = {}): Promise<ApiClient> {
      const userId = options.userId ?? randomUUID();
      return new ApiClient(baseUrl, await mintToken({ sub: userId, scope: options.scope }), userId);
    },
    anonymous(): ApiClient {
      return new ApiClient(baseUrl, undefined, '');
    },
    withToken(token: string): ApiClient {
      return new ApiClient(baseUrl, token, '');
    },
  };
}

/** A new channel owned by `owner`; its id. */
export async function channelOf(owner: ApiClient, name = 'room'): Promise<string> {
  const created = await owner.post<{ id: string }>('/channels', { name });
  expect(created.status).toBe(201);
  return created.body.id;
}

/** Posts a message expecting 201; its id. */
export async function postMessage(client: ApiClient, channelId: string, body: Record<string, unknown>): Promise<string> {
  const created = await client.post<{ id: string }>(`/channels/${channelId}/messages`, body);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id;
}
