/** The OpenAPI 3.1 document, generated from the route table and the request schemas. */
import * as z from 'zod/mini';

export interface DocumentedRoute {
  method: string;
  path: string;
  summary: string;
  auth: 'jwt' | 'none' | 'telegram-secret';
  write: boolean;
  tag: string;
  success: { status: number; description: string };
  body?: z.ZodMiniType;
  query?: z.ZodMiniType;
}

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Stable snake_case code, e.g. invalid_request, not_found, unavailable' },
        message: { type: 'string' },
      },
    },
  },
};

const messageSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: '64-bit Snowflake id as a decimal string' },
    channel_id: { type: 'string', format: 'uuid' },
    author_id: { type: 'string', format: 'uuid' },
    content: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
    edited_at: { type: ['string', 'null'], format: 'date-time' },
    reply_to_id: { type: ['string', 'null'] },
    source: { enum: ['app', 'telegram'] },
    telegram: {
      type: ['object', 'null'],
      properties: { chat_id: { type: 'integer' }, message_id: { type: 'integer' } },
    },
  },
};

const pathParameter = {
  channel_id: { type: 'string', format: 'uuid' },
  user_id: { type: 'string', format: 'uuid' },
  message_id: { type: 'string', pattern: '^[1-9][0-9]{0,18}$' },
  telegram_chat_id: { type: 'string', pattern: '^-?[0-9]+$' },
  telegram_message_id: { type: 'string', pattern: '^[0-9]+$' },
  emoji: { type: 'string', description: 'URL-encoded: one emoji or a :name: of 1–32 characters' },
} as Record<string, object>;

function inputSchema(schema: z.ZodMiniType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
}

function operation(route: DocumentedRoute) {
  const parameters: object[] = [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: pathParameter[name!] ?? { type: 'string' },
  }));
  if (route.query) {
    const query = inputSchema(route.query) as { properties?: Record<string, object>; required?: string[] };
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      parameters.push({ name, in: 'query', required: query.required?.includes(name) ?? false, schema });
    }
  }
  const responses: Record<string, object> = {
    [route.success.status]: {
      description: route.success.description,
      ...(route.success.status !== 204 && route.path !== '/docs'
        ? { content: { 'application/json': { schema: route.path.includes('/messages') ? messageSchema : { type: 'object' } } } }
        : {}),
    },
    '400': { description: 'Invalid request', content: { 'application/json': { schema: errorSchema } } },
    '503': { description: 'A store is unavailable; retry after Retry-After seconds', content: { 'application/json': { schema: errorSchema } } },
  };
  if (route.write) {
    responses['429'] = { description: 'Too many writes; retry after Retry-After seconds', content: { 'application/json': { schema: errorSchema } } };
  }
  if (route.auth === 'telegram-secret') {
    responses['401'] = { description: 'Wrong or missing X-Telegram-Bot-Api-Secret-Token', content: { 'application/json': { schema: errorSchema } } };
  }
  if (route.auth === 'jwt') {
    responses['401'] = { description: 'Missing or invalid token', content: { 'application/json': { schema: errorSchema } } };
    responses['403'] = { description: 'Not a member of the channel', content: { 'application/json': { schema: errorSchema } } };
    responses['404'] = { description: 'No such channel or resource', content: { 'application/json': { schema: errorSchema } } };
  }
  return {
    summary: route.summary,
    tags: [route.tag],
    ...(route.auth === 'jwt' ? { security: [{ bearer: [] }] } : { security: [] }),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: inputSchema(route.body) } } } }
      : {}),
    responses,
  };
}

export function buildOpenApi(routes: DocumentedRoute[], serverUrl?: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Message storage API',
      version: '1.0.0',
      description:
        'Chat message storage over ScyllaDB. 64-bit ids travel as decimal strings; errors are {"error": {"code", "message"}}.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Error: errorSchema, Message: messageSchema },
    },
    paths,
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
