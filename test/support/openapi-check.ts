/**
 * Checks responses against the OpenAPI document the service serves (buildOpenApi over the route table): the
 * route is found by method and path, the status must be documented for it, and a JSON body must match the
 * schema documented for that status (Ajv, JSON Schema 2020-12, formats checked). ApiClient runs it on every
 * response of every integration test, so a body or status the document does not describe fails the test.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { matchRoute, routes, type Route } from '../../functions/routes.js';
import { buildOpenApi } from '../../lib/api/openapi.js';

// ajv-formats is CommonJS; its plugin is also its `default` property, which is what the types describe.
const addFormats = addFormatsModule.default;

interface Operation {
  operationId: string;
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
}

export const openApiDocument = buildOpenApi(routes) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object> };
};

const ROOT = 'https://messages.invalid/openapi.json';
/** The document's `#/components/schemas/X` references, pointed at the components added to Ajv below. */
const rebased = (schema: object): object =>
  JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', `"${ROOT}#/$defs/`)) as object;

const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
addFormats(ajv);
ajv.addSchema({ $id: ROOT, $defs: rebased(openApiDocument.components.schemas) });

const compiled = new Map<string, ValidateFunction>();
function validatorFor(key: string, schema: object): ValidateFunction {
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(rebased(schema));
    compiled.set(key, validate);
  }
  return validate;
}

/** Routes whose responses are the document itself or HTML: nothing to check them against. */
const UNCHECKED = new Set(['get-openapi', 'get-docs']);

const excerpt = (body: unknown) => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text === undefined ? '(empty)' : text.length > 600 ? `${text.slice(0, 600)}…` : text;
};

export class UndocumentedResponseError extends Error {
  override name = 'UndocumentedResponseError';
}

/**
 * Throws unless the response is what the document says `route` answers with `status`. `body` is the parsed JSON
 * (undefined for an empty body, a string when it was not JSON).
 */
export function checkRouteResponse(route: Route, status: number, contentType: string | null, body: unknown): void {
  if (UNCHECKED.has(route.handler)) return;
  const operation = openApiDocument.paths[route.path]?.[route.method.toLowerCase()];
  const where = `${route.method} ${route.path} (${route.handler})`;
  if (!operation) throw new UndocumentedResponseError(`${where}: no operation in the OpenAPI document`);
  const documented = operation.responses[String(status)];
  if (!documented) {
    throw new UndocumentedResponseError(
      `${where} answered ${status}, which the OpenAPI document does not list (it lists ${Object.keys(operation.responses).join(', ')}). Body: ${excerpt(body)}`,
    );
  }
  if (!documented.content) {
    if (body !== undefined && body !== '') throw new UndocumentedResponseError(`${where} ${status}: documented without a body, but sent ${excerpt(body)}`);
    return;
  }
  const media = documented.content['application/json'];
  if (!media) return;
  if (!contentType?.toLowerCase().startsWith('application/json') || body === undefined || typeof body === 'string') {
    throw new UndocumentedResponseError(`${where} ${status}: documented as JSON, but sent content-type ${contentType ?? '(none)'}: ${excerpt(body)}`);
  }
  const validate = validatorFor(`${operation.operationId} ${status}`, media.schema);
  if (!validate(body)) {
    const errors = (validate.errors ?? []).map((error) => `  ${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)} (${error.schemaPath})`).join('\n');
    throw new UndocumentedResponseError(`${where} ${status}: the body does not match the OpenAPI document:\n${errors}\nBody: ${excerpt(body)}`);
  }
}

const errorShape = validatorFor('unmatched', { $ref: '#/components/schemas/Error' });

/** As checkRouteResponse, for a request by method and URL path (the local server's own answers included). */
export function checkHttpResponse(method: string, path: string, status: number, contentType: string | null, body: unknown): void {
  const pathname = path.split('?')[0]!;
  if (pathname === '/.well-known/jwks.json') return; // the local server's stand-in for the issuer, not the API
  const matched = matchRoute(method.toUpperCase(), pathname);
  if (matched) {
    checkRouteResponse(matched.route, status, contentType, body);
    return;
  }
  // No route: the local server answers 404 in the error shape (API Gateway would answer {"message":"Not Found"}).
  if (status !== 404 || !errorShape(body)) {
    throw new UndocumentedResponseError(`${method} ${pathname} matches no route, yet answered ${status}: ${excerpt(body)}`);
  }
}

/** For in-process invocations: a handler's result (API Gateway payload 2.0) checked as the route it serves. */
export function checkHandlerResult(handler: string, result: { statusCode?: number; headers?: Record<string, unknown>; body?: string }): void {
  const route = (routes as Route[]).find((candidate) => candidate.handler === handler);
  if (!route) throw new Error(`no route is served by ${handler}`);
  let body: unknown = result.body === undefined || result.body === '' ? undefined : result.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      /* stays text */
    }
  }
  const contentType = result.headers?.['content-type'];
  checkRouteResponse(route, result.statusCode ?? 200, typeof contentType === 'string' ? contentType : null, body);
}
