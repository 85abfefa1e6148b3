/**
 * The OpenAPI 3.1 document, generated from the route table: request schemas from the routes' params, query and
 * body (what the validation middleware enforces), response schemas from their `response` (lib/api/responses.ts,
 * what the handlers send), and every status a route can answer derived from its traits (auth, inputs, write,
 * stores) plus what it declares itself (`alsoAnswers`). Schemas are JSON Schema 2020-12, OpenAPI 3.1's dialect;
 * shared ones sit under components/schemas and are referenced.
 */
import * as z from 'zod/mini';
import * as responses from './responses.js';

export interface DocumentedRoute {
  method: string;
  path: string;
  handler: string;
  summary: string;
  description?: string;
  auth: 'jwt' | 'none' | 'telegram-secret';
  write: boolean;
  stores: readonly string[];
  tag: string;
  success: { status: number; description: string };
  params?: z.ZodMiniType;
  query?: z.ZodMiniType;
  body?: z.ZodMiniType;
  response?: z.ZodMiniType;
  alsoAnswers?: { status: number; description: string; body?: z.ZodMiniType }[];
  throttle?: { rateLimit: number; burstLimit: number };
}

type JsonSchema = Record<string, unknown>;

const TAGS: Record<string, string> = {
  channels: 'Channels and their members. Every channel route answers 404 for a channel that does not exist and 403 to a caller who is not a member (a service principal may act in any channel).',
  members: 'Who is in a channel.',
  messages: 'Messages of a channel timeline: API and Telegram messages interleaved in Snowflake order.',
  reactions: 'Emoji reactions: one per user and emoji, idempotent.',
  pins: 'Pinned messages of a channel.',
  'read-positions': 'Where each user has read up to in a channel, and how much is unread.',
  search: 'Full-text search within a channel.',
  typing: 'Ephemeral typing indicators (Redis, 8 s).',
  presence: 'Ephemeral presence (Redis, 60 s unless renewed).',
  templates: 'Reusable message content with {{variable}} placeholders.',
  changes: 'The changes feed: what changed in a channel since a cursor, to sync after being offline.',
  telegram: 'The Telegram bridge: the Bot API webhook and lookups by Telegram ids.',
  health: 'Probes for load balancers and orchestration; no authentication.',
  docs: 'This document, as JSON and as a page.',
};

const camelCase = (name: string) => name.replace(/-([a-z0-9])/g, (_, char: string) => char.toUpperCase());
const pascalCase = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/** The exported response schemas, by the component name they are documented under. */
const namedResponses = new Map<unknown, string>(
  Object.entries(responses)
    .filter(([, value]) => typeof value === 'object' && value !== null && '_zod' in value)
    .map(([name, schema]) => [schema, pascalCase(name)]),
);

/** Collects components/schemas while operations are built; a name maps to exactly one schema. */
class Components {
  readonly schemas: Record<string, JsonSchema> = {};

  private add(name: string, schema: JsonSchema): void {
    const existing = this.schemas[name];
    if (existing && JSON.stringify(existing) !== JSON.stringify(schema)) {
      throw new Error(`Two different schemas want the component name ${name}`);
    }
    this.schemas[name] = schema;
  }

  /**
   * The JSON Schema of a zod schema, with its `$defs` (schemas carrying a `meta({ id })`) moved to components and
   * referenced there. Input and output differ for transforms: requests are documented as sent, responses as sent.
   */
  convert(schema: z.ZodMiniType, io: 'input' | 'output'): JsonSchema {
    const generated = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
    // Drops `undefined` (a meta() that removes a generated keyword) and points $defs references at components.
    const text = JSON.stringify(generated).replaceAll('"#/$defs/', '"#/components/schemas/');
    const { $schema: _dialect, $defs, ...root } = JSON.parse(text) as JsonSchema & { $defs?: Record<string, JsonSchema> };
    for (const [name, definition] of Object.entries($defs ?? {})) this.add(name, definition);
    return root;
  }

  /** A `$ref` to the component of an exported response schema (named after its export), or the schema inline. */
  ref(schema: z.ZodMiniType, io: 'input' | 'output'): JsonSchema {
    const name = namedResponses.get(schema);
    const converted = this.convert(schema, io);
    // A schema with its own meta({ id }) already is a component, and converts to a bare reference to it.
    if (!name || (Object.keys(converted).length === 1 && typeof converted.$ref === 'string')) return converted;
    this.add(name, converted);
    return { $ref: `#/components/schemas/${name}` };
  }
}

const json = (schema: JsonSchema) => ({ 'application/json': { schema } });

const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 1 } },
};

function operation(route: DocumentedRoute, components: Components) {
  const error = components.ref(responses.error, 'output');
  const errorResponse = (description: string, headers?: object) => ({ description, ...(headers ? { headers } : {}), content: json(error) });

  const pathNames = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name!);
  const paramSchemas = route.params ? (components.convert(route.params, 'input').properties as Record<string, JsonSchema> | undefined) : undefined;
  const parameters: object[] = pathNames.map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: paramSchemas?.[name] ?? { type: 'string' },
  }));
  if (route.query) {
    const query = components.convert(route.query, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      const { description, ...rest } = schema;
      parameters.push({
        name,
        in: 'query',
        required: query.required?.includes(name) ?? false,
        ...(typeof description === 'string' ? { description } : {}),
        schema: rest,
      });
    }
  }

  const responsesByStatus: Record<string, object> = {};
  const success = route.success;
  responsesByStatus[success.status] =
    success.status === 204
      ? { description: success.description }
      : route.response
        ? { description: success.description, content: json(components.ref(route.response, 'output')) }
        : { description: success.description, content: { 'text/html': { schema: { type: 'string' } } } };

  if (route.params || route.query || route.body) {
    responsesByStatus['400'] = errorResponse('Invalid request: a path parameter, query parameter or body field breaks its schema, or the body is not JSON (`invalid_request`, `invalid_json` or a more precise code)');
  }
  if (route.auth === 'jwt') {
    responsesByStatus['401'] = {
      description:
        'Missing or invalid bearer token. In AWS the HTTP API\'s JWT authorizer answers before the function runs, with its own body `{"message": "Unauthorized"}`; the local server answers the error shape.',
      content: json({ oneOf: [error, components.ref(responses.gatewayUnauthorized, 'output')] }),
    };
  } else if (route.auth === 'telegram-secret') {
    responsesByStatus['401'] = errorResponse('Missing or wrong X-Telegram-Bot-Api-Secret-Token');
  }
  if (route.auth === 'jwt' && pathNames.length > 0) {
    responsesByStatus['403'] = errorResponse('The caller is not a member of the channel, or may not do this in it (`forbidden`)');
    responsesByStatus['404'] = errorResponse('No such channel, or no such resource in it (`not_found`)');
  }
  if (route.body) {
    responsesByStatus['413'] = errorResponse('The body is larger than 64 KiB (`payload_too_large`)');
    responsesByStatus['415'] = errorResponse('The body is not sent as Content-Type: application/json (`unsupported_media_type`)');
  }
  if (route.write) {
    responsesByStatus['429'] = errorResponse('Too many writes by this caller (`rate_limited`)', retryAfter);
  } else if (route.auth === 'jwt') {
    responsesByStatus['429'] = errorResponse('Too many reads by this caller (`rate_limited`)', retryAfter);
  } else if (route.throttle) {
    responsesByStatus['429'] = {
      description: `This route's API Gateway throttle (${route.throttle.rateLimit} requests/s, bursts of ${route.throttle.burstLimit}) refused the request, with API Gateway's own body`,
      content: json(components.ref(responses.gatewayThrottled, 'output')),
    };
  }
  responsesByStatus['500'] = {
    description:
      'An unexpected error (`internal`); the details are logged, never sent. If the function itself fails, API Gateway answers `{"message": "Internal Server Error"}`.',
    content: json({ oneOf: [error, components.ref(responses.gatewayInternalError, 'output')] }),
  };
  if (route.stores.length > 0 || route.write) {
    responsesByStatus['503'] = errorResponse('A store this route needs is unavailable; retry after Retry-After seconds (`unavailable`)', retryAfter);
  }
  for (const extra of route.alsoAnswers ?? []) {
    responsesByStatus[extra.status] = extra.body
      ? { description: extra.description, ...(extra.status === 503 ? { headers: retryAfter } : {}), content: json(components.ref(extra.body, 'output')) }
      : errorResponse(extra.description, extra.status === 503 || extra.status === 429 ? retryAfter : undefined);
  }
  const sorted = Object.fromEntries(Object.entries(responsesByStatus).sort(([a], [b]) => Number(a) - Number(b)));

  return {
    operationId: camelCase(route.handler),
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    security: route.auth === 'jwt' ? [{ bearer: [] }] : route.auth === 'telegram-secret' ? [{ telegramSecret: [] }] : [],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body ? { requestBody: { required: true, content: json(components.convert(route.body, 'input')) } } : {}),
    responses: sorted,
  };
}

export function buildOpenApi(routes: readonly DocumentedRoute[], serverUrl = '/'): Record<string, unknown> {
  const components = new Components();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation(route, components);
  }
  const usedTags = [...new Set(routes.map((route) => route.tag))];
  const schemas = Object.fromEntries(Object.entries(components.schemas).sort(([a], [b]) => a.localeCompare(b)));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Message storage API',
      version: '2.0.0',
      description:
        'Chat message storage over ScyllaDB. JSON in and out, field names in snake_case; 64-bit ids travel as decimal ' +
        'strings, channel and user ids are lower-case UUIDs, times are ISO-8601 UTC with milliseconds. Every error ' +
        'the service answers is `{"error": {"code", "message"}}`; only API Gateway itself answers otherwise (its JWT ' +
        'authorizer\'s 401, a failed function\'s 500), and those are documented where they can happen.',
      license: { name: 'Proprietary (UNLICENSED): all rights reserved' },
    },
    servers: [{ url: serverUrl, description: 'The API itself (relative to where this document is served)' }],
    tags: usedTags.map((name) => ({ name, description: TAGS[name] ?? `${name} routes` })),
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'The caller is the `sub` claim (a UUID); a `scope` containing `messages:service` makes a service principal.',
        },
        telegramSecret: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Telegram-Bot-Api-Secret-Token',
          description: 'The secret configured with setWebhook; Telegram sends it with every update.',
        },
      },
      schemas,
    },
  };
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);

/** A self-contained page (no CDN: it must render offline) listing every operation with its schemas. */
export function renderDocsHtml(document: Record<string, unknown>): string {
  const paths = document.paths as Record<string, Record<string, { summary: string; tags: string[]; parameters?: object[]; requestBody?: object; responses: Record<string, { description: string }>; security: object[] }>>;
  const sections = Object.entries(paths)
    .flatMap(([path, operations]) =>
      Object.entries(operations).map(([method, op]) => {
        const responses = Object.entries(op.responses)
          .map(([status, response]) => `<li><code>${status}</code> ${escapeHtml(response.description)}</li>`)
          .join('');
        const details = [
          op.parameters ? `<h4>Parameters</h4><pre>${escapeHtml(JSON.stringify(op.parameters, null, 2))}</pre>` : '',
          op.requestBody ? `<h4>Body</h4><pre>${escapeHtml(JSON.stringify(op.requestBody, null, 2))}</pre>` : '',
        ].join('');
        return `<section><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code>${
          op.security.length ? ' <span class="lock" title="Bearer token">🔒</span>' : ''
        }</h3><p>${escapeHtml(op.summary)}</p><ul>${responses}</ul>${details ? `<details><summary>Schemas</summary>${details}</details>` : ''}</section>`;
      }),
    )
    .join('\n');
  const info = document.info as { title: string; description: string; version: string };
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(info.title)}</title><style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#222}
section{border-top:1px solid #ddd;padding:.5rem 0}h3{margin:.3rem 0;font-size:1rem}
.m{display:inline-block;min-width:4.5em;font-size:.8rem;padding:.1rem .4rem;border-radius:4px;color:#fff;text-align:center}
.get{background:#2b7a0b}.post{background:#1f5fbf}.put{background:#a35f00}.patch{background:#6b3fa0}.delete{background:#b42318}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;font-size:.8rem}code{font-size:.9rem}
</style></head><body><h1>${escapeHtml(info.title)} <small>v${escapeHtml(info.version)}</small></h1>
<p>${escapeHtml(info.description)} Machine-readable: <a href="openapi.json">openapi.json</a>.</p>
${sections}</body></html>`;
}
