/** Handlers invoked directly with the event shapes API Gateway sends (test/fixtures/aws-events). */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handler as createChannel } from '../../functions/create-channel.js';
import { handler as getChannel } from '../../functions/get-channel.js';
import { handler as healthLive } from '../../functions/health-live.js';
import { handler as healthReady } from '../../functions/health-ready.js';
import { checkHandlerResult } from '../support/openapi-check.js';

function fixture(name: string) {
  return JSON.parse(readFileSync(new URL(`../fixtures/aws-events/${name}`, import.meta.url), 'utf8'));
}

const context = { awsRequestId: 'test-request', functionName: 'test', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

/** The fixture's event, re-aimed at one route with a real caller's claims, everything else as AWS sent it. */
function eventFor(method: string, routePath: string, rawPath: string, claims: Record<string, string>, body?: unknown) {
  const event = fixture('apigw-v2-request-jwt-authorizer.json');
  event.routeKey = `${method} ${routePath}`;
  event.rawPath = rawPath;
  event.rawQueryString = '';
  delete event.queryStringParameters;
  event.requestContext.routeKey = event.routeKey;
  event.requestContext.http.method = method;
  event.requestContext.http.path = rawPath;
  event.requestContext.authorizer.jwt.claims = claims;
  event.headers = { ...event.headers, 'content-type': 'application/json' };
  const params = [...routePath.matchAll(/\{(\w+)\}/g)].map(([, name]) => name!);
  const values = rawPath.split('/').filter((_, index) => routePath.split('/')[index]?.startsWith('{'));
  event.pathParameters = params.length ? Object.fromEntries(params.map((name, i) => [name, values[i]])) : undefined;
  event.body = body === undefined ? undefined : JSON.stringify(body);
  return event;
}

describe('handlers with API Gateway v2 events', () => {
  it('create-channel and get-channel answer as the API documents', async () => {
    const sub = randomUUID();
    const claims = { sub, iss: 'https://issuer.example', aud: 'messages-api', exp: String(Math.floor(Date.now() / 1000) + 60) };
    const created = await createChannel(eventFor('POST', '/channels', '/channels', claims, { name: 'from-event' }), context);
    checkHandlerResult('create-channel', created);
    expect(created.statusCode).toBe(201);
    expect(created.headers?.['content-type']).toBe('application/json');
    const channel = JSON.parse(created.body!);
    expect(channel.name).toBe('from-event');

    const read = await getChannel(eventFor('GET', '/channels/{channel_id}', `/channels/${channel.id}`, claims), context);
    checkHandlerResult('get-channel', read);
    expect(read.statusCode).toBe(200);
    expect(JSON.parse(read.body!)).toEqual(channel);
  });

  it('the fixture as AWS sent it (claims without sub) is a 401 in the API error shape', async () => {
    const response = await getChannel(fixture('apigw-v2-request-jwt-authorizer.json'), context);
    checkHandlerResult('get-channel', response);
    expect(response.statusCode).toBe(401);
    expect(JSON.parse(response.body!)).toEqual({ error: { code: 'unauthorized', message: 'The token must carry a lower-case canonical UUID `sub` claim' } });
  });

  it('the health probes answer the event without an authorizer', async () => {
    const live = await healthLive(fixture('apigw-v2-request-no-authorizer.json'), context);
    checkHandlerResult('health-live', live);
    expect(live.statusCode).toBe(200);
    expect(JSON.parse(live.body!)).toEqual({ status: 'ok' });
    const ready = await healthReady(fixture('apigw-v2-request-no-authorizer.json'), context);
    checkHandlerResult('health-ready', ready);
    expect(ready.statusCode).toBe(200);
    const body = JSON.parse(ready.body!);
    expect(body.status).toBe('ok');
    for (const store of ['scylla', 'postgres', 'redis']) expect(body.checks[store].status).toBe('ok');
  });
});
