/** What the pipeline's middlewares share: the API Gateway event, the result, and each request's state. */
import type { Request as MiddyRequest } from '@middy/core';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { Principal } from '#lib/auth/principal.js';

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type HttpResult = APIGatewayProxyStructuredResultV2;
export type PipelineRequest = MiddyRequest<HttpEvent, HttpResult, Error, Context>;

/** Filled in by the middlewares, in order, before the handler runs. */
export interface RequestState {
  startedAt: number;
  principal?: Principal;
  params?: unknown;
  query?: unknown;
  body?: unknown;
  /** A write's rate-limit verdict, when the route admits beside its preparation (see Route.admitsBeside). */
  admission?: Admission;
}

/**
 * The write rate limit's verdict, started after validation and awaited by the use case before it changes
 * anything. `check` resolves when the caller may write and rejects with the 429 otherwise; a verdict never
 * awaited cannot become an unhandled rejection.
 */
export interface Admission {
  check(): Promise<void>;
  /** Whether the use case awaited the verdict (a write route that returns without it is a bug). */
  readonly checked: boolean;
}

/** The verdict of a write already admitted (the limit ran before the handler, or the route has none). */
export const ADMITTED: Admission = { check: () => Promise.resolve(), checked: true };

/*
 * Middy hands the handler only (event, context); the state travels keyed by the event object, which is
 * unique to one invocation.
 */
const states = new WeakMap<HttpEvent, RequestState>();

/** A fresh state for a new invocation (an event object may be delivered twice, e.g. by a test). */
export function beginState(request: { event: HttpEvent }): RequestState {
  const state: RequestState = { startedAt: performance.now() };
  states.set(request.event, state);
  return state;
}

export function stateOf(request: { event: HttpEvent }): RequestState {
  let state = states.get(request.event);
  if (!state) {
    state = { startedAt: performance.now() };
    states.set(request.event, state);
  }
  return state;
}

export interface PipelineMiddleware {
  before?: (request: PipelineRequest) => Promise<void> | void;
  after?: (request: PipelineRequest) => Promise<void> | void;
  onError?: (request: PipelineRequest) => Promise<void> | void;
}
