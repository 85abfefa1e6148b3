/**
 * What deploys, measured from the synthesised assembly (cdk.out), never from the TypeScript sources: each
 * Lambda function's bundle as the template names it (test/deploy/template.ts maps functions to asset
 * directories through the asset manifest), whatever builds it.
 *
 *   bundles      every function's index.mjs size (the target: ≤ 450 KB each)
 *   loads        importing the bundle in a fresh Node process, import only (the target: ≤ 45 ms for Scylla functions)
 *   coldStarts   per function kind, a fresh process: process start → module import → first answer (its connects
 *                included), timed from the parent's spawn to the answer, with the child's own marks beside
 *   memory       peak RSS of one bundle serving 8 concurrent callers for 15 s
 *
 * Each child runs with the template's environment for that function less what names AWS resources (secret
 * ARNs, the stores' addresses, the bus, queues, endpoints), which the bench's local stores replace; cwd is the
 * bundle's directory, as Lambda's task root.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { publicJwks, mintToken } from '../../infra/local/jwt.js';
import { projectRoot } from '../../infra/cdk/bundling.js';
import { apigwEvent } from '../support/apigw.js';
import { customResourceEvent, eventBridgeEvent, scheduledEvent, webSocketAuthorizerEvent } from '../deploy/events.js';
import { lambdaNode } from '../deploy/runner.js';
import { readAssembly } from '../deploy/synth.js';
import { lambdaFunctions, readTemplate, type FunctionSpec } from '../deploy/template.js';
import { round } from './stats.js';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const assemblyDir = () => process.env.BENCH_CDK_OUT ?? join(projectRoot, 'cdk.out');

/** Synthesises the app into the assembly directory (BENCH_CDK_OUT or cdk.out) unless BENCH_SYNTH=0; returns its duration. */
export async function synthesize(say: (line: string) => void): Promise<number> {
  const outDir = assemblyDir();
  let synthMs = 0;
  if (process.env.BENCH_SYNTH !== '0') {
    say(`  npm run synth -o ${outDir} (BENCH_SYNTH=0 reuses the assembly there)`);
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'infra', 'cli', 'synth.ts'), '-o', outDir], { cwd: projectRoot, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-3000)));
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`npm run synth exited ${code}: ${stderr.slice(-1500)}`))));
    });
    synthMs = performance.now() - started;
  }
  return round(synthMs, 0);
}

/** The functions of the synthesised assembly, each with its bundle directory. */
export function assembly(): { outDir: string; functions: (FunctionSpec & { name: string })[] } {
  const outDir = assemblyDir();
  if (!existsSync(join(outDir, 'manifest.json'))) throw new Error(`${outDir} holds no assembly: run npm run synth (or unset BENCH_SYNTH)`);
  const a = readAssembly(outDir);
  const functions = lambdaFunctions(readTemplate(a.templateFile), a.outDir, a.assetsFile)
    .filter((fn) => fn.bundleDir && existsSync(join(fn.bundleDir, 'index.mjs')))
    .map((fn) => ({ ...fn, name: fn.path.split('/')[1] ?? fn.logicalId }));
  return { outDir, functions };
}

/** Template variables that name AWS resources or the deployed stores: the local stores stand in for them. */
const AWS_BOUND = /(_SECRET_ARN$|^SCYLLA_|^DATABASE_|^UPSTASH_|^CHANGES_BUS_NAME$|_QUEUE_URL$|^WS_MANAGEMENT_ENDPOINT$|^TELEGRAM_API_URL$|^MIGRATIONS_DIR$|^JWT_)/;

function environmentOf(fn: FunctionSpec & { name: string }, local: Record<string, string>): Record<string, string> {
  const fromTemplate = Object.fromEntries(Object.entries(fn.environment).filter(([key, value]) => typeof value === 'string' && !AWS_BOUND.test(key))) as Record<string, string>;
  const base = { ...local };
  delete base.NODE_OPTIONS;
  // Endpoints a function refuses to start without: addresses nothing answers on (no frame is sent in the bench).
  const standIns = Object.fromEntries(['WS_MANAGEMENT_ENDPOINT', 'TELEGRAM_API_URL'].filter((key) => key in fn.environment).map((key) => [key, 'http://127.0.0.1:9/']));
  return { ...base, ...fromTemplate, ...standIns, ...(fn.name === 'Migrate' ? { MIGRATIONS_DIR: join(fn.bundleDir!, 'cql') } : {}) };
}

/**
 * The function's code: every JavaScript file of its asset directory (the entry and any chunks it imports, now
 * or later), without source maps and data files; and the entry alone, what an import reads first.
 */
function codeSize(dir: string): { codeKb: number; entryKb: number; files: number } {
  let bytes = 0;
  let files = 0;
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(at, entry.name));
      else if (/\.(mjs|cjs|js)$/.test(entry.name)) {
        bytes += statSync(join(at, entry.name)).size;
        files++;
      }
    }
  };
  walk(dir);
  return { codeKb: round(bytes / 1024, 1), entryKb: round(statSync(join(dir, 'index.mjs')).size / 1024, 1), files };
}

export const usesScylla = (fn: FunctionSpec) => Object.keys(fn.environment).some((key) => key.startsWith('SCYLLA_'));

/** Runs `script` as an ES module in a fresh process in `cwd`; resolves with its last stdout line as JSON and the wall time. */
function child(script: string, env: Record<string, string>, cwd: string): Promise<{ out: Record<string, any>; wallMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // The Lambda runtime's Node major (node_modules/.bin/node), whatever runs the bench.
    const handle = spawn(lambdaNode(projectRoot), ['--input-type=module', '-e', script], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let answeredAt: number | undefined;
    handle.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (answeredAt === undefined && stdout.includes('"answered"')) answeredAt = performance.now();
    });
    handle.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-2000)));
    handle.on('exit', (code) => {
      const last = stdout.trim().split('\n').filter((line) => line.startsWith('{"bench"')).pop() ?? '';
      try {
        resolve({ out: JSON.parse(last).bench, wallMs: (answeredAt ?? performance.now()) - started });
      } catch {
        reject(new Error(`child exited ${code}: ${stderr.slice(-600) || stdout.slice(-600)}`));
      }
    });
  });
}

const importOnly = (file: string) => `
const t0 = performance.now();
await import(${JSON.stringify(pathToFileURL(file).href)});
console.log(JSON.stringify({ bench: { bootMs: t0, importMs: performance.now() - t0 } }));
process.exit(0);`;

const firstAnswer = (file: string) => `
const t0 = performance.now();
const { handler } = await import(${JSON.stringify(pathToFileURL(file).href)});
const t1 = performance.now();
const event = JSON.parse(process.env.BENCH_EVENT);
const context = { awsRequestId: 'cold', functionName: 'bench', getRemainingTimeInMillis: () => 60000 };
let answer, failure;
try { answer = await handler(event, context); } catch (error) { failure = String(error?.stack ?? error).slice(0, 400); }
const t2 = performance.now();
console.log(JSON.stringify({ bench: { answered: true, bootMs: t0, importMs: t1 - t0, firstCallMs: t2 - t1, answer: JSON.stringify(answer ?? null).slice(0, 300), failure } }));
process.exit(0);`;

export async function measureBundles(say: (line: string) => void, local: Record<string, string>, loads = 5) {
  const { outDir, functions } = assembly();
  const perFunction: Record<string, { usesScylla: boolean; bundleKb: number; entryKb: number; jsFiles: number; loadMs: number; loadMsRuns: number[]; bootMs: number; bundleDir: string; loadErrors: number; loadError?: string }> = {};
  for (const fn of functions) {
    if (perFunction[fn.name]) continue;
    const file = join(fn.bundleDir!, 'index.mjs');
    const runs: { importMs: number; bootMs: number }[] = [];
    let loadError: string | undefined;
    for (let i = 0; i < loads; i++) {
      try {
        runs.push((await child(importOnly(file), environmentOf(fn, local), fn.bundleDir!)).out as { importMs: number; bootMs: number });
      } catch (error) {
        loadError ??= (error as Error).message.slice(0, 300);
      }
    }
    perFunction[fn.name] = {
      usesScylla: usesScylla(fn),
      ...(({ codeKb, entryKb, files }) => ({ bundleKb: codeKb, entryKb, jsFiles: files }))(codeSize(fn.bundleDir!)),
      loadMs: runs.length ? round(median(runs.map((r) => r.importMs)), 1) : NaN,
      loadMsRuns: runs.map((r) => round(r.importMs, 1)),
      bootMs: runs.length ? round(median(runs.map((r) => r.bootMs)), 1) : NaN,
      bundleDir: fn.bundleDir!.replace(`${projectRoot}/`, ''),
      loadErrors: loads - runs.length,
      ...(loadError ? { loadError } : {}),
    };
    say(`  ${fn.name}: ${perFunction[fn.name]!.bundleKb} KB, import ${perFunction[fn.name]!.loadMs} ms${usesScylla(fn) ? ' (Scylla)' : ''}${loadError ? `; FAILED ${loads - runs.length}×: ${loadError.slice(0, 200)}` : ''}`);
  }
  return { outDir: outDir.replace(`${projectRoot}/`, ''), loadsPerFunction: loads, perFunction };
}

export interface ColdFixture {
  channelId: string;
  messageId: string;
  userId: string;
  telegramChatId: number;
}

/** One fresh process per function kind and run: process start → import → first answer (connects included). */
export async function measureColdStarts(say: (line: string) => void, local: Record<string, string>, fixture: ColdFixture, runs = 5) {
  const { functions } = assembly();
  // The WebSocket authorizer discovers its issuer's keys over HTTP: a local issuer serving the local JWKS.
  const jwks = await publicJwks();
  const issuerServer = createServer((request, response) => {
    const base = `http://127.0.0.1:${(issuerServer.address() as { port: number }).port}`;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(request.url?.includes('openid-configuration') ? { issuer: `${base}/`, jwks_uri: `${base}/jwks` } : jwks));
  });
  await new Promise<void>((resolve) => issuerServer.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(issuerServer.address() as { port: number }).port}/`;
  const token = await mintToken({ sub: fixture.userId, issuer, audience: 'bench-push' });
  const claims = { sub: fixture.userId };
  let telegramId = 5_000_000 + Math.floor(Math.random() * 1e6);
  const kinds: { kind: string; name: string; event: () => unknown; env?: Record<string, string>; ok: (answer: any) => boolean }[] = [
    { kind: 'HTTP read (get-message)', name: 'GetMessage', event: () => apigwEvent({ method: 'GET', route: '/channels/{channel_id}/messages/{message_id}', params: { channel_id: fixture.channelId, message_id: fixture.messageId }, claims }), ok: (a) => a?.statusCode === 200 },
    { kind: 'HTTP write (create-message)', name: 'CreateMessage', event: () => apigwEvent({ method: 'POST', route: '/channels/{channel_id}/messages', params: { channel_id: fixture.channelId }, claims, body: { content: 'cold create' } }), ok: (a) => a?.statusCode === 201 },
    {
      kind: 'Telegram webhook',
      name: 'TelegramWebhook',
      event: () => {
        const id = telegramId++;
        return apigwEvent({ method: 'POST', route: '/telegram/webhook', headers: { 'x-telegram-bot-api-secret-token': local.TELEGRAM_WEBHOOK_SECRET ?? '' }, body: { update_id: id, message: { message_id: id, date: Math.floor(Date.now() / 1000), chat: { id: fixture.telegramChatId, type: 'supergroup' }, from: { id: 7, is_bot: false, first_name: 'B' }, text: `cold ${id}` } } });
      },
      ok: (a) => a?.statusCode === 200,
    },
    { kind: 'reconciler (scheduled)', name: 'Reconcile', event: () => scheduledEvent('arn:aws:events:eu-west-1:123456789012:rule/bench'), ok: (a) => a !== null && a !== undefined },
    {
      kind: 'push fan-out',
      name: 'FanOut',
      event: () => eventBridgeEvent({ Source: 'messages', DetailType: 'message.created', Detail: JSON.stringify({ cursor: '0', type: 'message.created', at: new Date().toISOString(), channel_id: fixture.channelId }) }),
      env: { WS_MANAGEMENT_ENDPOINT: 'http://127.0.0.1:9/' },
      ok: (a) => a !== null && a !== undefined,
    },
    { kind: 'WebSocket authorizer', name: 'WsAuthorizer', event: () => webSocketAuthorizerEvent('bench', token), env: { JWT_ISSUER: issuer, JWT_AUDIENCE: 'bench-push' }, ok: (a) => a?.policyDocument?.Statement?.[0]?.Effect === 'Allow' },
    {
      kind: 'migration (custom resource, nothing pending)',
      name: 'Migrate',
      event: () => customResourceEvent('Update', { logicalId: 'Migrations', resourceType: 'Custom::Migrations', serviceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:bench', properties: { MigrationsHash: 'bench' }, stackName: 'MessageStore' }, 'migrations'),
      ok: (a) => a !== null && a !== undefined,
    },
    { kind: 'HTTP, no store (health-live)', name: 'HealthLive', event: () => apigwEvent({ method: 'GET', route: '/health/live' }), ok: (a) => a?.statusCode === 200 },
  ];
  const out: Record<string, { function: string; usesScylla: boolean; wallMs: number; importMs: number; firstCallMs: number; bootMs: number; runs: number; errors: number; firstError?: string; wallMsRuns: number[] }> = {};
  try {
    for (const k of kinds) {
      const fn = functions.find((f) => f.name === k.name);
      if (!fn) {
        out[k.kind] = { function: k.name, usesScylla: false, wallMs: NaN, importMs: NaN, firstCallMs: NaN, bootMs: NaN, runs: 0, errors: 1, firstError: 'not in the assembly', wallMsRuns: [] };
        continue;
      }
      const samples: { wallMs: number; importMs: number; firstCallMs: number; bootMs: number }[] = [];
      let errors = 0;
      let firstError: string | undefined;
      for (let i = 0; i < runs; i++) {
        try {
          const { out: o, wallMs } = await child(firstAnswer(join(fn.bundleDir!, 'index.mjs')), { ...environmentOf(fn, local), ...k.env, BENCH_EVENT: JSON.stringify(k.event()) }, fn.bundleDir!);
          const answer = o.answer ? JSON.parse(o.answer.length >= 300 ? 'null' : o.answer) : null;
          if (o.failure || (o.answer.length < 300 && !k.ok(answer))) {
            errors++;
            firstError ??= o.failure ?? o.answer;
          }
          // A failed first answer is timed all the same: a cold start that fails still took that long.
          samples.push({ wallMs, importMs: o.importMs, firstCallMs: o.firstCallMs, bootMs: o.bootMs });
        } catch (error) {
          errors++;
          firstError ??= (error as Error).message.slice(0, 400);
        }
      }
      const med = (key: keyof (typeof samples)[number]) => (samples.length ? round(median(samples.map((s) => s[key])), 1) : NaN);
      out[k.kind] = { function: k.name, usesScylla: usesScylla(fn), wallMs: med('wallMs'), importMs: med('importMs'), firstCallMs: med('firstCallMs'), bootMs: med('bootMs'), runs: samples.length, errors, ...(firstError ? { firstError } : {}), wallMsRuns: samples.map((s) => round(s.wallMs, 1)) };
      say(`  ${k.kind}: ${out[k.kind]!.wallMs} ms spawn → answer (node boot ${out[k.kind]!.bootMs}, import ${out[k.kind]!.importMs}, first call ${out[k.kind]!.firstCallMs}); errors ${errors}${firstError ? `: ${firstError.slice(0, 160)}` : ''}`);
    }
  } finally {
    issuerServer.close();
  }
  return out;
}

/** Peak RSS of one bundle (from the assembly) serving `concurrency` callers for 15 s. */
export async function measureMemory(say: (line: string) => void, local: Record<string, string>, fixture: { channelId: string; userId: string }) {
  const { functions } = assembly();
  const out: Record<string, { peakRssMb: number; requests: number; heapUsedMb: number; errors: number }> = {};
  for (const [name, input] of [
    ['CreateMessage', { method: 'POST', route: '/channels/{channel_id}/messages', params: { channel_id: fixture.channelId }, claims: { sub: fixture.userId }, body: { content: 'memory benchmark' } }],
    ['ListMessages', { method: 'GET', route: '/channels/{channel_id}/messages', params: { channel_id: fixture.channelId }, query: { limit: '50' }, claims: { sub: fixture.userId } }],
  ] as const) {
    const fn = functions.find((f) => f.name === name);
    if (!fn) continue;
    const { out: o } = await child(
      `const { handler } = await import(${JSON.stringify(pathToFileURL(join(fn.bundleDir!, 'index.mjs')).href)});
       const event = JSON.parse(process.env.BENCH_EVENT);
       const context = { awsRequestId: 'mem', getRemainingTimeInMillis: () => 10000 };
       const deadline = Date.now() + 15000;
       let requests = 0, errors = 0;
       await Promise.all(Array.from({ length: 8 }, async () => { while (Date.now() < deadline) { const r = await handler(event, context).catch(() => ({})); if (!(r.statusCode < 300)) errors++; requests++; } }));
       console.log(JSON.stringify({ bench: { answered: true, peakRssMb: process.resourceUsage().maxRSS / 1024, requests, errors, heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20 } }));
       process.exit(0);`,
      { ...environmentOf(fn, { ...local, LOG_LEVEL: 'ERROR' }), LOG_LEVEL: 'ERROR', BENCH_EVENT: JSON.stringify(apigwEvent(input)) },
      fn.bundleDir!,
    );
    out[name] = { peakRssMb: round(o.peakRssMb, 1), requests: o.requests, heapUsedMb: round(o.heapUsedMb, 1), errors: o.errors };
    say(`  ${name}: peak RSS ${out[name].peakRssMb} MB over ${o.requests} requests (${o.errors} errors)`);
  }
  return out;
}
