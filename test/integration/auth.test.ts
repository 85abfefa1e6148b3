/** The local server verifies tokens as API Gateway's JWT authorizer does. */
import { randomUUID } from 'node:crypto';
import { SignJWT, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, mintToken } from '../../infra/local/jwt.js';
import { useLocalApi } from '../support/api.js';

const api = useLocalApi();

async function expectUnauthorized(token: string | undefined) {
  const client = token === undefined ? api.anonymous() : api.withToken(token);
  const response = await client.post('/channels', { name: 'x' });
  expect(response.status).toBe(401);
  expect(response.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
}

describe('authentication', () => {
  it('accepts a valid token', async () => {
    const client = api.withToken(await mintToken({ sub: randomUUID() }));
    expect((await client.post('/channels', { name: 'ok' })).status).toBe(201);
  });

  it('refuses a missing, malformed, expired, wrong-audience, wrong-issuer or wrongly signed token', async () => {
    await expectUnauthorized(undefined);
    await expectUnauthorized('not-a-jwt');
    await expectUnauthorized(await mintToken({ sub: randomUUID(), expiresInSeconds: -60 }));
    await expectUnauthorized(await mintToken({ sub: randomUUID(), audience: 'another-api' }));
    await expectUnauthorized(await mintToken({ sub: randomUUID(), issuer: 'https://evil.example/' }));
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: 'forged' })
      .setSubject(randomUUID())
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE)
      .setExpirationTime('5m')
      .sign(privateKey);
    await expectUnauthorized(forged);
  });

  it('refuses a verified token whose sub is not a UUID', async () => {
    await expectUnauthorized(await mintToken({ sub: 'not-a-uuid' }));
  });

  it('serves the health probes, the OpenAPI document and the docs page without a token', async () => {
    const anonymous = api.anonymous();
    expect((await anonymous.get('/health/live')).body).toEqual({ status: 'ok' });
    const openapi = await anonymous.get('/openapi.json');
    expect(openapi.status).toBe(200);
    expect(openapi.body.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.body.paths)).toContain('/channels/{channel_id}/messages');
    const createBody = openapi.body.paths['/channels/{channel_id}/messages'].post.requestBody.content['application/json'].schema;
    expect(JSON.stringify(createBody)).toContain('"oneOf":[{"required":["content"]},{"required":["template_id"]}]');
    const docs = await anonymous.get('/docs');
    expect(docs.headers.get('content-type')).toMatch(/text\/html/);
    expect(docs.body).toContain('/channels/{channel_id}/messages');
  });
});
