/** The OpenAPI document: structurally OpenAPI 3.1, complete for every route, and its schemas compile. */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { routes, type Route } from '../../functions/routes.js';
import { buildOpenApi } from '../../lib/api/openapi.js';
import { checkRouteResponse, openApiDocument } from '../support/openapi-check.js';

interface Operation {
  operationId: string;
  summary: string;
  tags: string[];
  security: object[];
  parameters?: { name: string; in: string; required: boolean; schema: object }[];
  requestBody?: { content: Record<string, { schema: object }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: object }> }>;
}

const document = buildOpenApi(routes) as {
  openapi: string;
  info: { title: string; version: string; license: { name: string } };
  servers: { url: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object>; securitySchemes: Record<string, object> };
};
const allRoutes = routes as Route[];
/** The only route whose success is not JSON. */
const HTML_ROUTES = new Set(['get-docs']);
const operationOf = (route: Route) => document.paths[route.path]![route.method.toLowerCase()]!;

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with the required top-level fields', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.title).toBeTruthy();
    expect(document.info.version).toBeTruthy();
    expect(document.info.license.name).toBeTruthy();
    expect(document.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    const tags = new Set(document.tags.map((tag) => tag.name));
    for (const route of allRoutes) expect(tags, route.handler).toContain(route.tag);
    for (const tag of document.tags) expect(tag.description, tag.name).toBeTruthy();
  });

  it('has every route, with a unique camelCase operationId of its handler', () => {
    const ids = new Set<string>();
    for (const route of allRoutes) {
      const operation = operationOf(route);
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      expect(operation.operationId).toBe(route.handler.replace(/-([a-z0-9])/g, (_, char: string) => char.toUpperCase()));
      expect(ids.has(operation.operationId)).toBe(false);
      ids.add(operation.operationId);
    }
    const count = Object.values(document.paths).reduce((sum, operations) => sum + Object.keys(operations).length, 0);
    expect(count).toBe(allRoutes.length);
  });

  it('documents every path parameter, and a schema for every response but a 204', () => {
    for (const route of allRoutes) {
      const operation = operationOf(route);
      const names = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name);
      expect(operation.parameters?.filter((parameter) => parameter.in === 'path').map((parameter) => parameter.name) ?? [], route.handler).toEqual(names);
      for (const [status, response] of Object.entries(operation.responses)) {
        expect(response.description, `${route.handler} ${status}`).toBeTruthy();
        if (status === '204') expect(response.content, `${route.handler} 204`).toBeUndefined();
        else expect(Object.values(response.content ?? {})[0]?.schema, `${route.handler} ${status}`).toBeDefined();
      }
      expect(operation.responses[String(route.success.status)], route.handler).toBeDefined();
    }
  });

  it('has a response schema in the route table for every route that answers JSON', () => {
    for (const route of allRoutes) {
      if (route.success.status === 204 || HTML_ROUTES.has(route.handler)) continue;
      expect(route.response, `${route.handler} needs response: responses.<name> in functions/routes.ts`).toBeDefined();
    }
  });

  it('derives the statuses from the route traits', () => {
    for (const route of allRoutes) {
      const statuses = Object.keys(operationOf(route).responses);
      if (route.auth !== 'none') expect(statuses, route.handler).toContain('401');
      if (route.params || route.query || route.body) expect(statuses, route.handler).toContain('400');
      if (route.body) expect(statuses, route.handler).toEqual(expect.arrayContaining(['413', '415']));
      // Writes and JWT reads spend a per-user quota; the routes without a JWT have API Gateway's per-route throttle.
      if (route.write || route.auth === 'jwt' || route.throttle) expect(statuses, route.handler).toContain('429');
      if (route.stores.length > 0 || route.write) expect(statuses, route.handler).toContain('503');
      if (route.path.includes('{channel_id}')) expect(statuses, route.handler).toEqual(expect.arrayContaining(['403', '404']));
      for (const extra of route.alsoAnswers ?? []) expect(statuses, route.handler).toContain(String(extra.status));
    }
  });

  it('resolves every $ref, and every schema compiles under JSON Schema 2020-12', () => {
    const text = JSON.stringify(document);
    for (const [, name] of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) expect(document.components.schemas, name).toHaveProperty(name!);
    expect(text).not.toContain('#/$defs/');
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true, validateFormats: false });
    const rebase = (schema: object) => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"https://messages.invalid/c#/$defs/')) as object;
    ajv.addSchema({ $id: 'https://messages.invalid/c', $defs: rebase(document.components.schemas) });
    for (const route of allRoutes) {
      const operation = operationOf(route);
      const schemas = [
        ...(operation.parameters ?? []).map((parameter) => parameter.schema),
        ...Object.values(operation.requestBody?.content ?? {}).map((media) => media.schema),
        ...Object.values(operation.responses).flatMap((response) => Object.values(response.content ?? {}).map((media) => media.schema)),
      ];
      for (const schema of schemas) expect(() => ajv.compile(rebase(schema)), route.handler).not.toThrow();
    }
  });

  it('forbids undeclared properties in every request body the server checks strictly', () => {
    for (const route of allRoutes) {
      if (!route.body || route.handler === 'telegram-webhook') continue;
      const schema = operationOf(route).requestBody!.content['application/json']!.schema as { additionalProperties?: unknown };
      expect(schema.additionalProperties, route.handler).toBe(false);
    }
  });

  it('matches what the handlers build (the response check accepts real shapes and refuses others)', () => {
    const route = (handler: string) => allRoutes.find((candidate) => candidate.handler === handler)!;
    const message = {
      id: '1234567890123456789',
      channel_id: '2f1c1b2e-8a3e-4c1d-9f00-0123456789ab',
      author_id: '8a3e1b2e-8a3e-4c1d-9f00-0123456789ab',
      content: 'hello',
      created_at: '2026-11-23T10:00:00.000Z',
      edited_at: null,
      reply_to_id: null,
      source: 'telegram',
      telegram: { chat_id: -100123, message_id: 7, thread_id: null },
      mentions: [],
      attachments: [{ id: 'a', url: 'tg://file/AgAD', filename: 'photo.jpg', content_type: 'image/jpeg', size: 10, width: 1, height: 1 }],
      reply_count: 0,
    };
    expect(() => checkRouteResponse(route('get-message'), 200, 'application/json', message)).not.toThrow();
    expect(() => checkRouteResponse(route('get-message'), 200, 'application/json', { ...message, extra: 1 })).toThrow(/must NOT have additional properties/);
    expect(() => checkRouteResponse(route('create-message'), 200, 'application/json', message)).not.toThrow();
    expect(() => checkRouteResponse(route('get-message'), 418, 'application/json', {})).toThrow(/does not list/);
    expect(() => checkRouteResponse(route('get-message'), 401, 'application/json', { message: 'Unauthorized' })).not.toThrow();
    expect(() =>
      checkRouteResponse(route('health-ready'), 503, 'application/json', {
        status: 'unavailable',
        checks: { scylla: { status: 'ok', latency_ms: 1.5 }, postgres: { status: 'unavailable' }, redis: { status: 'ok', latency_ms: 0.3 } },
      }),
    ).not.toThrow();
    expect(() => checkRouteResponse(route('health-ready'), 503, 'application/json', { error: { code: 'unavailable', message: 'x' } })).toThrow();
    // The anonymous probe names no store error (hosts, roles): a check carrying one is undocumented.
    expect(() =>
      checkRouteResponse(route('health-ready'), 503, 'application/json', {
        status: 'unavailable',
        checks: { scylla: { status: 'ok', latency_ms: 1.5 }, postgres: { status: 'unavailable', error: 'role "app" does not exist' }, redis: { status: 'ok', latency_ms: 0.3 } },
      }),
    ).toThrow();
  });

  it('uses the served document in the response check', () => {
    expect(openApiDocument).toEqual(JSON.parse(JSON.stringify(buildOpenApi(routes))));
    expect(typeof z.toJSONSchema).toBe('function');
  });
});
