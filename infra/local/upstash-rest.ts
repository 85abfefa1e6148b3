/**
 * A small Upstash-compatible REST endpoint in front of a real Redis, so that `@upstash/redis` runs unchanged
 * locally and in tests. Local tooling only: never bundled into a Lambda.
 *
 * Protocol (as Upstash and serverless-redis-http serve it): `POST /` with a JSON command array answers
 * `{"result": …}` or 400 `{"error": …}`; `POST /pipeline` and `POST /multi-exec` take an array of command
 * arrays and answer an array of those objects; `Authorization: Bearer <token>` is required; with
 * `Upstash-Encoding: base64` every string in a result is base64-encoded (the client's default).
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';

type Reply = null | number | Buffer | Reply[];
type Outcome = { result: unknown } | { error: string };

const MAX_BODY_BYTES = 10 * 1024 * 1024;

function encodeReply(reply: Reply, base64: boolean): unknown {
  if (reply === null || typeof reply === 'number') return reply;
  if (Array.isArray(reply)) return reply.map((item) => encodeReply(item, base64));
  return base64 ? reply.toString('base64') : reply.toString('utf8');
}

function isCommand(value: unknown): value is (string | number | boolean)[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((part) => typeof part === 'string' || typeof part === 'number' || typeof part === 'boolean')
  );
}

async function runCommand(redis: Redis, command: (string | number | boolean)[], base64: boolean): Promise<Outcome> {
  const [name, ...args] = command.map(String);
  try {
    const reply = (await redis.callBuffer(name!, ...args)) as Reply;
    return { result: encodeReply(reply, base64) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

function authorized(header: string | undefined, token: string): boolean {
  const presented = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

export interface UpstashRestOptions {
  redisUrl?: string;
  token: string;
  port?: number;
  host?: string;
}

export interface UpstashRestServer {
  url: string;
  token: string;
  close(): Promise<void>;
}

export async function startUpstashRest(options: UpstashRestOptions): Promise<UpstashRestServer> {
  const redis = new Redis(options.redisUrl ?? 'redis://127.0.0.1:6379', {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    enableOfflineQueue: true,
  });
  // Keep serving (with errors) while Redis is down; ioredis reconnects on its own.
  redis.on('error', () => undefined);
  await redis.connect().catch(() => undefined);

  const server: Server = createServer((request, response) => {
    void (async () => {
      if (!authorized(request.headers.authorization, options.token)) {
        send(response, 401, { error: 'Unauthorized' });
        return;
      }
      if (request.method !== 'POST') {
        send(response, 405, { error: 'Only POST is supported' });
        return;
      }
      let payload: unknown;
      try {
        payload = JSON.parse(await readBody(request));
      } catch (error) {
        send(response, 400, { error: `ERR ${(error as Error).message}` });
        return;
      }
      const base64 = String(request.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
      const path = (request.url ?? '/').split('?')[0];
      if (path === '/' || path === '') {
        if (!isCommand(payload)) {
          send(response, 400, { error: 'ERR the body must be a JSON array holding one command' });
          return;
        }
        const outcome = await runCommand(redis, payload, base64);
        send(response, 'error' in outcome ? 400 : 200, outcome);
        return;
      }
      if (path === '/pipeline' || path === '/multi-exec') {
        if (!Array.isArray(payload) || payload.length === 0 || !payload.every(isCommand)) {
          send(response, 400, { error: 'ERR the body must be a JSON array of command arrays' });
          return;
        }
        if (path === '/pipeline') {
          const outcomes = await Promise.all(payload.map((command) => runCommand(redis, command, base64)));
          send(response, 200, outcomes);
          return;
        }
        send(response, 200, await runTransaction(redis, payload, base64));
        return;
      }
      send(response, 404, { error: `ERR unknown endpoint ${path}` });
    })().catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, { error: `ERR ${(error as Error).message}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    token: options.token,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      redis.disconnect();
    },
  };
}

async function runTransaction(
  redis: Redis,
  commands: (string | number | boolean)[][],
  base64: boolean,
): Promise<Outcome[] | { error: string }> {
  const transaction = redis.multi();
  for (const command of commands) {
    const [name, ...args] = command.map(String);
    transaction.callBuffer(name!, ...args);
  }
  try {
    const results = (await transaction.exec()) ?? [];
    return results.map(([error, reply]) =>
      error ? { error: error.message } : { result: encodeReply(reply as Reply, base64) },
    );
  } catch (error) {
    return { error: (error as Error).message };
  }
}
