/**
 * Powertools Tracer (an X-Ray subsegment per invocation, annotated with the route and cold start) when
 * TRACING_ENABLED is on; the stack turns on active tracing with it. The Tracer and the X-Ray SDK weigh about
 * 128 KB, so a bundle built with tracing off leaves them out: the build defines `__TRACER_BUNDLED__` false
 * and the dynamic import below becomes dead code (see infra/cdk/bundling.ts). Unbundled (tsx) it is there.
 */
import { getConfig } from '#lib/config.js';
import type { PipelineMiddleware, PipelineRequest } from './types.js';

declare const __TRACER_BUNDLED__: boolean | undefined;

export function tracingEnabled(): boolean {
  return (typeof __TRACER_BUNDLED__ === 'undefined' || __TRACER_BUNDLED__) && getConfig().tracingEnabled;
}

/** Loaded on the first request (part of the cold start), then reused. */
export function tracing(route: string): PipelineMiddleware {
  let loaded: Promise<{ inner: PipelineMiddleware; annotate: () => void }> | undefined;
  const load = () =>
    (loaded ??= (async () => {
      // The import sits inside this branch so that esbuild, with `__TRACER_BUNDLED__` false, drops it.
      // (Spelled out, not through a variable: esbuild folds the defined constant only where it is written.)
      if (typeof __TRACER_BUNDLED__ === 'undefined' || __TRACER_BUNDLED__) {
        const [{ Tracer }, { captureLambdaHandler }] = await Promise.all([
          import('@aws-lambda-powertools/tracer'),
          import('@aws-lambda-powertools/tracer/middleware'),
        ]);
        const tracer = new Tracer({ serviceName: 'messages' });
        const inner = captureLambdaHandler(tracer, { captureResponse: false }) as unknown as PipelineMiddleware;
        return { inner, annotate: () => tracer.putAnnotation('route', route) };
      }
      throw new Error('Powertools Tracer is not in this bundle (built with tracing off)');
    })());
  const delegate = (phase: 'after' | 'onError') => async (request: PipelineRequest) => {
    await (await load()).inner[phase]?.(request);
  };
  return {
    before: async (request) => {
      const { inner, annotate } = await load();
      await inner.before?.(request);
      annotate();
    },
    after: delegate('after'),
    onError: delegate('onError'),
  };
}
