/** Bundle sizes, load times in a fresh Node process, first invocations, and memory under load. */
import { spawn } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { esbuildOptions, projectRoot } from '../../infra/cdk/bundling.js';
import { migrateFunction, reconcileFunction, routes } from '../../functions/routes.js';
import { apigwEvent } from '../support/apigw.js';
import { round } from './stats.js';

const benchDir = join(projectRoot, '.local', 'bench');
const LOADS = 5;

async function bundle(handler: string): Promise<{ bundled: string; unbundled: string }> {
  const entry = join(projectRoot, 'functions', `${handler}.ts`);
  const bundled = join(benchDir, 'bundled', handler, 'index.mjs');
  const unbundled = join(benchDir, 'unbundled', handler, 'index.mjs');
  mkdirSync(join(benchDir, 'bundled', handler), { recursive: true });
  mkdirSync(join(benchDir, 'unbundled', handler), { recursive: true });
  await build(esbuildOptions(entry, bundled));
  // The same code with every dependency loaded from node_modules at run time, as an unbundled deploy would.
  await build({ ...esbuildOptions(entry, unbundled), packages: 'external', minify: false, sourcemap: false, alias: {} });
  return { bundled, unbundled };
}

/** Runs a script in a fresh Node process and returns what it printed as JSON on its last line. */
function child(script: string, env: Record<string, string>): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const processHandle = spawn(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    processHandle.stdout.on('data', (chunk) => (stdout += chunk));
    processHandle.stderr.on('data', (chunk) => (stderr += chunk));
    processHandle.on('exit', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`child exited ${code}: ${stderr.slice(-500)}`));
      }
    });
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function loadTime(file: string, env: Record<string, string>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < LOADS; i++) {
    const result = await child(
      `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(JSON.stringify({ ms: performance.now() - t }));`,
      env,
    );
    samples.push(result.ms!);
  }
  return round(median(samples), 1);
}

async function firstInvocation(file: string, event: unknown, env: Record<string, string>): Promise<{ loadMs: number; firstInvokeMs: number; secondInvokeMs: number }> {
  const results: Record<string, number>[] = [];
  for (let i = 0; i < 3; i++) {
    results.push(
      await child(
        `const t0 = performance.now();
         const { handler } = await import(${JSON.stringify(pathToFileURL(file).href)});
         const t1 = performance.now();
         const event = JSON.parse(process.env.BENCH_EVENT);
         const context = { awsRequestId: 'cold', getRemainingTimeInMillis: () => 10000 };
         const first = await handler(event, context);
         const t2 = performance.now();
         await handler({ ...event, requestContext: { ...event.requestContext, requestId: 'warm' } }, context);
         const t3 = performance.now();
         if (first.statusCode >= 300) throw new Error('status ' + first.statusCode + ' ' + first.body);
         console.log(JSON.stringify({ loadMs: t1 - t0, firstInvokeMs: t2 - t1, secondInvokeMs: t3 - t2 }));
         process.exit(0);`,
        { ...env, BENCH_EVENT: JSON.stringify(event) },
      ),
    );
  }
  return {
    loadMs: round(median(results.map((r) => r.loadMs!)), 1),
    firstInvokeMs: round(median(results.map((r) => r.firstInvokeMs!)), 1),
    secondInvokeMs: round(median(results.map((r) => r.secondInvokeMs!)), 1),
  };
}

export async function measureColdStarts(
  env: Record<string, string>,
  fixture: { channelId: string; messageId: string; userId: string },
  say: (line: string) => void,
) {
  const functions = [...routes.map((route) => ({ handler: route.handler, stores: route.stores })), migrateFunction, reconcileFunction];
  const perFunction: Record<string, { usesScylla: boolean; bundleKb: number; bundledLoadMs: number; unbundledLoadMs: number; loadSpeedup: number }> = {};
  for (const fn of functions) {
    const { bundled, unbundled } = await bundle(fn.handler);
    const bundledLoadMs = await loadTime(bundled, env);
    const unbundledLoadMs = await loadTime(unbundled, env);
    perFunction[fn.handler] = {
      usesScylla: fn.stores.includes('scylla'),
      bundleKb: round(statSync(bundled).size / 1024, 1),
      bundledLoadMs,
      unbundledLoadMs,
      loadSpeedup: round(unbundledLoadMs / bundledLoadMs, 1),
    };
    say(`  ${fn.handler}: ${perFunction[fn.handler]!.bundleKb} KB, load ${bundledLoadMs} ms (unbundled ${unbundledLoadMs} ms)`);
  }
  const claims = { sub: fixture.userId };
  const getEvent = apigwEvent({ method: 'GET', route: '/channels/{channel_id}/messages/{message_id}', params: { channel_id: fixture.channelId, message_id: fixture.messageId }, claims });
  const liveEvent = apigwEvent({ method: 'GET', route: '/health/live' });
  const first = {
    'get-message bundled': await firstInvocation(join(benchDir, 'bundled', 'get-message', 'index.mjs'), getEvent, env),
    'get-message unbundled': await firstInvocation(join(benchDir, 'unbundled', 'get-message', 'index.mjs'), getEvent, env),
    'health-live bundled': await firstInvocation(join(benchDir, 'bundled', 'health-live', 'index.mjs'), liveEvent, env),
  };
  return { perFunction, firstInvocation: first };
}

/** Peak RSS of one function's bundle serving creates from 8 concurrent callers for 15 s. */
export async function measureMemory(env: Record<string, string>, fixture: { channelId: string; userId: string }, say: (line: string) => void) {
  const out: Record<string, { peakRssMb: number; requests: number; heapUsedMb: number }> = {};
  for (const handler of ['create-message', 'list-messages']) {
    const file = join(benchDir, 'bundled', handler, 'index.mjs');
    const event = apigwEvent(
      handler === 'create-message'
        ? { method: 'POST', route: '/channels/{channel_id}/messages', params: { channel_id: fixture.channelId }, claims: { sub: fixture.userId }, body: { content: 'memory benchmark' } }
        : { method: 'GET', route: '/channels/{channel_id}/messages', params: { channel_id: fixture.channelId }, query: { limit: '50' }, claims: { sub: fixture.userId } },
    );
    const result = await child(
      `const { handler } = await import(${JSON.stringify(pathToFileURL(file).href)});
       const event = JSON.parse(process.env.BENCH_EVENT);
       const context = { awsRequestId: 'mem', getRemainingTimeInMillis: () => 10000 };
       const deadline = Date.now() + 15000;
       let requests = 0;
       await Promise.all(Array.from({ length: 8 }, async () => { while (Date.now() < deadline) { await handler(event, context); requests++; } }));
       console.log(JSON.stringify({ peakRssMb: process.resourceUsage().maxRSS / 1024, requests, heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20 }));
       process.exit(0);`,
      { ...env, BENCH_EVENT: JSON.stringify(event) },
    );
    out[handler] = { peakRssMb: round(result.peakRssMb!, 1), requests: result.requests!, heapUsedMb: round(result.heapUsedMb!, 1) };
    say(`  ${handler}: peak RSS ${out[handler].peakRssMb} MB over ${result.requests} requests`);
  }
  return out;
}
