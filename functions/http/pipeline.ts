/**
 * The request pipeline every HTTP Lambda is built from, at module scope (once per container):
 *
 *   request context + logger → [tracer] → principal → validate params/query/body → rate limit (writes)
 *   → handler (reads: with their rate limit counted beside it) → error mapping → (request context records
 *   metrics and flushes them)
 *
 * Everything a route is comes from the route table, looked up by the handler's name. Two things are
 * supplied by the handler module instead, because importing them is a bundle-size choice: the write and read
 * rate limiters (they bring the Redis client) and a non-JWT authenticator. The table decides whether a route needs
 * them, and building a handler without what its route needs (or with what it does not) fails at cold start.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import type { Principal } from '#lib/auth/principal.js';
import { getConfig, requireStores } from '#lib/config.js';
import { metricsFor, withMetrics } from '#lib/observability/metrics.js';
import { settlePublishes } from '#lib/use-cases/publish.js';
import { rateLimitOf, routeNamed, storesOf, type Route, type RouteName, type RouteOf } from '../routes.js';
import { errorMapping } from './middleware/error-mapping.js';
import { principal, type Authenticator } from './middleware/principal.js';
import { rateLimit, readLimitedHandler, type ReadRateLimiter, type WriteRateLimiter } from './middleware/rate-limit.js';
import { requestContext } from './middleware/request-context.js';
import { tracing, tracingEnabled } from './middleware/tracing.js';
import { ADMITTED, stateOf, type Admission, type HttpEvent, type HttpResult, type PipelineMiddleware } from './middleware/types.js';
import { validate } from './middleware/validate.js';

export type { HttpEvent, HttpResult } from './middleware/types.js';
export { json, noContent } from './responses.js';

type Out<R, K extends 'params' | 'query' | 'body'> = R extends { [P in K]: infer S extends z.ZodMiniType } ? z.output<S> : undefined;

/** What a handler receives: who is calling and its valid, typed input. */
export interface RouteRequest<R> {
  principal: Principal;
  params: Out<R, 'params'>;
  query: Out<R, 'query'>;
  body: Out<R, 'body'>;
  /** The write rate limit's verdict: already given unless the route admits beside its preparation. */
  admission: Admission;
  event: HttpEvent;
}

export interface RoutePlugins {
  /** Required exactly when the route is a write. */
  rateLimiter?: WriteRateLimiter;
  /** Required exactly when the route is a read a user makes with a JWT (`rateLimitOf(route) === 'reads'`). */
  readLimiter?: ReadRateLimiter;
  /** Required exactly when the route's auth is neither `jwt` nor `none`. */
  authenticate?: Authenticator;
}

export type RouteHandler = ((event: HttpEvent, context: Context) => Promise<HttpResult>) & { route: Route };

function checkPlugins(route: Route, plugins: RoutePlugins): void {
  if (route.write !== Boolean(plugins.rateLimiter)) {
    throw new Error(`${route.handler}: the route table says write=${route.write}; pass a rateLimiter exactly for writes`);
  }
  if ((rateLimitOf(route) === 'reads') !== Boolean(plugins.readLimiter)) {
    throw new Error(`${route.handler}: pass a readLimiter exactly for reads behind a JWT (auth '${route.auth}', write=${route.write})`);
  }
  const needsAuthenticator = route.auth !== 'jwt' && route.auth !== 'none';
  if (needsAuthenticator !== Boolean(plugins.authenticate)) {
    throw new Error(`${route.handler}: auth '${route.auth}' ${needsAuthenticator ? 'needs' : 'takes no'} authenticator`);
  }
}

/** Builds the Lambda handler of the route served by `functions/<name>.ts`. */
export function httpRoute<H extends RouteName>(
  name: H,
  handle: (request: RouteRequest<RouteOf<H>>) => Promise<HttpResult>,
  plugins: RoutePlugins = {},
): RouteHandler {
  return buildRouteHandler(routeNamed(name), handle, plugins);
}

/** The same, for a route given as a value (tests build handlers for routes with a forced behaviour). */
export function buildRouteHandler(
  route: Route,
  handle: (request: RouteRequest<unknown>) => Promise<HttpResult>,
  plugins: RoutePlugins = {},
): RouteHandler {
  // At cold start: a missing setting or a handler that does not match its route fails the init, by name.
  requireStores(getConfig(), storesOf(route));
  checkPlugins(route, plugins);
  const metrics = metricsFor(route.handler);

  const middlewares: PipelineMiddleware[] = [
    requestContext(route.handler, metrics),
    ...(tracingEnabled() ? [tracing(route.handler)] : []),
    errorMapping(),
    principal(route.auth, plugins.authenticate),
    validate(route),
    ...(plugins.rateLimiter ? [rateLimit(plugins.rateLimiter, route.admitsBeside === true)] : []),
  ];
  const pipeline = middy<HttpEvent, HttpResult, Error, Context>().handler(async (event) => {
    const state = stateOf({ event });
    const admission = state.admission ?? ADMITTED;
    const run = async () => {
      const result = await handle({
        principal: state.principal!,
        params: state.params as undefined,
        query: state.query as undefined,
        body: state.body as undefined,
        admission,
        event,
      });
      // A use case that wrote without the verdict would let a caller over the limit through: fail loudly.
      if (!admission.checked) throw new Error(`${route.handler}: the use case returned without awaiting the rate limit's admission`);
      return result;
    };
    try {
      // A read's quota is counted beside the use case, after validation (a 400 still wins over a 429).
      return await (plugins.readLimiter ? readLimitedHandler(plugins.readLimiter, state.principal!, run) : run());
    } finally {
      // Changes the use case recorded are being published beside its remaining work; the container must not
      // freeze before they are sent (bounded: see lib/use-cases/publish.ts).
      await settlePublishes();
    }
  });
  for (const middleware of middlewares) pipeline.use(middleware);

  const handler = (event: HttpEvent, context: Context) => withMetrics(metrics, () => pipeline(event, context));
  return Object.assign(handler, { route });
}
