/**
 * The request pipeline with no store behind it: the order of its steps, the one error mapping, and the EMF
 * metrics an alarm reads. Handlers here are built for real routes of the table with a forced behaviour.
 */
import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildRouteHandler, json, type HttpEvent } from '../../functions/http/pipeline.js';
import { routeNamed, type Route } from '../../functions/routes.js';
import { RateLimitedError, StoreUnavailableError } from '../../lib/errors.js';

function fixture(name: string): HttpEvent {
  return JSON.parse(readFileSync(new URL(`../fixtures/aws-events/${name}`, import.meta.url), 'utf8')) as HttpEvent;
}

// Settings only: no store is reached. They let the write routes pass their start-up check (Redis for the limit).
Object.assign(process.env, {
  DATABASE_URL: 'postgres://unit@127.0.0.1:1/unit',
  UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1',
  UPSTASH_REDIS_REST_TOKEN: 'unit',
  LOG_LEVEL: 'ERROR',
});

const context = { awsRequestId: 'unit', functionName: 'unit', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
const USER = '7d0c6b1e-3b0a-4f7e-9a44-4c1d2f3e5a6b';

/** An authorised event aimed at `route`, with the given body and path parameters. */
function eventFor(route: Route, params: Record<string, string>, body?: unknown): HttpEvent {
  const event = fixture('apigw-v2-request-jwt-authorizer.json');
  event.routeKey = `${route.method} ${route.path}`;
  event.requestContext.authorizer.jwt.claims = { sub: USER };
  event.pathParameters = params;
  delete event.queryStringParameters;
  event.headers = { ...event.headers, 'content-type': 'application/json' };
  event.body = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  event.isBase64Encoded = false;
  return event;
}

interface EmfRecord {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

/** The EMF records written to stdout while `work` runs. */
async function emfDuring(work: () => Promise<unknown>): Promise<EmfRecord[]> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  try {
    await work();
  } finally {
    spy.mockRestore();
  }
  return lines.filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line) as EmfRecord);
}

function metricValues(records: EmfRecord[], name: string): number[] {
  return records.flatMap((record) => {
    if (!record._aws.CloudWatchMetrics.some((set) => set.Metrics.some((metric) => metric.Name === name))) return [];
    const value = record[name];
    return Array.isArray(value) ? (value as number[]) : [value as number];
  });
}

afterEach(() => vi.restoreAllMocks());

/** A read limiter that never refuses (the read routes need one; these tests are not about it). */
const unlimitedReads = { knownOver: () => undefined, count: async () => undefined };

describe('error mapping and metrics', () => {
  it('an unexpected error is a 500 in the API shape and a ServerError metric with the route dimension', async () => {
    const route = routeNamed('health-live');
    const handler = buildRouteHandler(route, async () => {
      throw new TypeError('cannot read properties of undefined');
    });
    let status = 0;
    let body = '';
    const records = await emfDuring(async () => {
      const result = await handler(fixture('apigw-v2-request-no-authorizer.json'), context);
      status = result.statusCode!;
      body = result.body!;
    });
    expect(status).toBe(500);
    expect(JSON.parse(body)).toEqual({ error: { code: 'internal', message: 'Something went wrong on our side' } });
    expect(body).not.toContain('cannot read');
    expect(metricValues(records, 'ServerError')).toEqual([1]);
    expect(metricValues(records, 'ClientError')).toEqual([]);
    const record = records.find((candidate) => 'ServerError' in candidate)!;
    expect(record.route).toBe('health-live');
    expect(record.service).toBe('messages');
    expect(record._aws.CloudWatchMetrics[0]!.Namespace).toBe('ChatMessages');
    expect(record._aws.CloudWatchMetrics[0]!.Dimensions[0]).toEqual(expect.arrayContaining(['service', 'route']));
    expect(metricValues(records, 'Latency')).toHaveLength(1);
  });

  it('a store outage is a fast 503 with Retry-After, counted as a server error and a store outage', async () => {
    const handler = buildRouteHandler(routeNamed('health-live'), async () => {
      throw new StoreUnavailableError('scylla', 'no host available');
    });
    let result: Awaited<ReturnType<typeof handler>> | undefined;
    const records = await emfDuring(async () => {
      result = await handler(fixture('apigw-v2-request-no-authorizer.json'), context);
    });
    expect(result!.statusCode).toBe(503);
    expect(result!.headers).toMatchObject({ 'Retry-After': '1' });
    expect(metricValues(records, 'StoreUnavailable')).toEqual([1]);
    expect(metricValues(records, 'ServerError')).toEqual([1]);
  });

  it('a handled 4xx is a ClientError, not a ServerError; success counts neither', async () => {
    const route = routeNamed('get-channel');
    const handler = buildRouteHandler(route, async () => json(200, { ok: true }), { readLimiter: unlimitedReads });
    const records = await emfDuring(async () => {
      expect((await handler(eventFor(route, { channel_id: 'not-a-uuid' }), context)).statusCode).toBe(400);
      expect((await handler(eventFor(route, { channel_id: USER }), context)).statusCode).toBe(200);
    });
    expect(metricValues(records, 'ClientError')).toEqual([1]);
    expect(metricValues(records, 'ServerError')).toEqual([]);
    expect(metricValues(records, 'Latency')).toHaveLength(2);
  });
});

describe('order of the pipeline', () => {
  const route = routeNamed('create-message');
  const params = { channel_id: USER };

  it('validates before the rate limit: a malformed write spends no quota, and 400 wins over 429', async () => {
    const limited: string[] = [];
    let overLimit = false;
    const handler = buildRouteHandler(route, async ({ body, admission }) => {
      await admission.check();
      return json(201, body);
    }, {
      rateLimiter: async (principal) => {
        limited.push(principal.userId);
        if (overLimit) throw new RateLimitedError(7);
      },
    });
    for (const bad of ['{', { content: '' }, { content: 'x', unknown: 1 }, 'null']) {
      expect((await handler(eventFor(route, params, bad), context)).statusCode).toBe(400);
    }
    expect((await handler(eventFor(route, { channel_id: 'nope' }, { content: 'x' }), context)).statusCode).toBe(400);
    expect(limited).toEqual([]);
    expect((await handler(eventFor(route, params, { content: 'hello' }), context)).statusCode).toBe(201);
    expect(limited).toEqual([USER]);
    overLimit = true;
    expect((await handler(eventFor(route, params, { content: '' }), context)).statusCode).toBe(400);
    const refused = await handler(eventFor(route, params, { content: 'hello' }), context);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers).toMatchObject({ 'Retry-After': '7' });
  });

  it('counts a read beside its use case: 429 instead of the result when over, a 400 first, a known 429 before any work', async () => {
    const read = routeNamed('get-channel');
    const events: string[] = [];
    let over = false;
    let known = false;
    const handler = buildRouteHandler(read, async () => {
      events.push('use case started');
      await new Promise((resolve) => setTimeout(resolve, 20));
      events.push('use case done');
      return json(200, { ok: true });
    }, {
      readLimiter: {
        knownOver: () => (known ? new RateLimitedError(9) : undefined),
        count: async () => {
          events.push('count started');
          await new Promise((resolve) => setTimeout(resolve, 5));
          events.push('count answered');
          if (over) throw new RateLimitedError(3);
        },
      },
    });
    expect((await handler(eventFor(read, { channel_id: USER }), context)).statusCode).toBe(200);
    // Beside, not before: the use case starts before the count has answered.
    expect(events).toEqual(['count started', 'use case started', 'count answered', 'use case done']);
    over = true;
    expect((await handler(eventFor(read, { channel_id: 'nope' }), context)).statusCode).toBe(400);
    const refused = await handler(eventFor(read, { channel_id: USER }), context);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers).toMatchObject({ 'Retry-After': '3' });
    events.length = 0;
    known = true;
    expect((await handler(eventFor(read, { channel_id: USER }), context)).statusCode).toBe(429);
    expect(events).toEqual([]);
  });

  it('runs a write\'s rate limit beside the use case\'s preparation on a route that admits beside it, and nothing is written when refused', async () => {
    expect(route.admitsBeside).toBe(true);
    const events: string[] = [];
    let over = false;
    const handler = buildRouteHandler(route, async ({ admission }) => {
      events.push('preparation started');
      await Promise.all([admission.check(), new Promise((resolve) => setTimeout(resolve, 5))]);
      events.push('written');
      return json(201, {});
    }, {
      rateLimiter: async () => {
        events.push('count started');
        await new Promise((resolve) => setTimeout(resolve, 20));
        events.push('count answered');
        if (over) throw new RateLimitedError(4);
      },
    });
    expect((await handler(eventFor(route, params, { content: 'hello' }), context)).statusCode).toBe(201);
    // The preparation starts before the count answers; the write waits for it.
    expect(events).toEqual(['count started', 'preparation started', 'count answered', 'written']);
    events.length = 0;
    over = true;
    const refused = await handler(eventFor(route, params, { content: 'hello' }), context);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers).toMatchObject({ 'Retry-After': '4' });
    expect(events).not.toContain('written');
  });

  it('a use case that returns without awaiting the admission is a server error, never a write past the limit', async () => {
    const handler = buildRouteHandler(route, async () => json(201, {}), { rateLimiter: async () => undefined });
    expect((await handler(eventFor(route, params, { content: 'hello' }), context)).statusCode).toBe(500);
  });

  it('authenticates before validating: a bad token with a bad body is a 401', async () => {
    const handler = buildRouteHandler(route, async () => json(201, {}), { rateLimiter: async () => undefined });
    const event = eventFor(route, params, '{');
    event.requestContext.authorizer.jwt.claims = {};
    expect((await handler(event, context)).statusCode).toBe(401);
  });

  it('hands the handler typed, validated input', async () => {
    const handler = buildRouteHandler(routeNamed('get-message'), async ({ params: parsed }) => {
      const { message_id: id } = parsed as unknown as { message_id: bigint };
      return json(200, { type: typeof id, id: id.toString() });
    }, { readLimiter: unlimitedReads });
    const result = await handler(eventFor(routeNamed('get-message'), { channel_id: USER, message_id: '123456789' }), context);
    expect(JSON.parse(result.body!)).toEqual({ type: 'bigint', id: '123456789' });
  });
});

describe('a handler must match its route', () => {
  it('refuses at cold start a write without a rate limiter, a read with one, and a secret route without its authenticator', () => {
    const noop = async () => json(200, {});
    expect(() => buildRouteHandler({ ...routeNamed('health-live'), write: true }, noop)).toThrow(/write=true/);
    expect(() => buildRouteHandler(routeNamed('health-live'), noop, { rateLimiter: async () => undefined })).toThrow(/write=false/);
    expect(() => buildRouteHandler({ ...routeNamed('health-live'), auth: 'telegram-secret' }, noop)).toThrow(/needs authenticator/);
    expect(() => buildRouteHandler(routeNamed('get-channel'), noop)).toThrow(/readLimiter/);
    expect(() => buildRouteHandler(routeNamed('health-live'), noop, { readLimiter: unlimitedReads })).toThrow(/readLimiter/);
  });
});
