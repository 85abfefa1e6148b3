/**
 * Concurrency 8 as 8 Lambda containers would give it: 8 worker processes, each with its own client and pool
 * (the app's, getScylla()), each making one call at a time and alternating the handler with its floor (the
 * order flipping every round). The operations run one after another at wall-clock times the parent sets, so the
 * 8 processes load the stores together. Every call's latency is kept, failures included, and failures are
 * counted by kind per arm.
 *
 * The parent (measureConcurrency8) imports this module for its export; a worker runs it as a script:
 * `node --import tsx test/bench/concurrency-8.ts` with BENCH_C8 = JSON of WorkerPlan in its environment.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../lib/config.js';
import { closePostgres } from '../../lib/postgres/pool.js';
import { closeScylla } from '../../lib/scylla/client.js';
import { operations, type Fixture, type OperationName } from './operations.js';
import { errorKind, type ArmSamples } from './stats.js';

interface WorkerPlan {
  fixture: Fixture;
  ops: OperationName[];
  seconds: number;
}

export interface WorkerResult {
  pid: number;
  perOp: Record<string, { floor: ArmSamples; handler: ArmSamples; rounds: number }>;
}

const GAP_MS = 500;

async function worker(plan: WorkerPlan): Promise<void> {
  loadConfig();
  const ops = await operations(plan.fixture);
  // Warm the container: connect, prepare every statement, load every module, before the clock starts.
  for (const name of plan.ops) {
    for (let i = 0; i < 5; i++) {
      await ops[name].floor(i).catch(() => undefined);
      await ops[name].handler(i).catch(() => undefined);
    }
  }
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  const go = await new Promise<number>((resolve) => lines.once('line', (line) => resolve(Number(line))));
  lines.close();
  const result: WorkerResult = { pid: process.pid, perOp: {} };
  for (const [k, name] of plan.ops.entries()) {
    const start = go + k * (plan.seconds * 1000 + GAP_MS);
    const end = start + plan.seconds * 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, start - Date.now())));
    const arms = [ops[name].floor, ops[name].handler];
    const out: ArmSamples[] = arms.map(() => ({ latencies: [], failed: [], errors: {}, firstErrors: [] }));
    let i = 0;
    while (Date.now() < end) {
      for (const arm of i % 2 === 0 ? [0, 1] : [1, 0]) {
        const started = performance.now();
        let failed = false;
        try {
          await arms[arm]!(i);
        } catch (error) {
          failed = true;
          const kind = errorKind(error);
          out[arm]!.errors[kind] = (out[arm]!.errors[kind] ?? 0) + 1;
          if (out[arm]!.firstErrors.length < 3) out[arm]!.firstErrors.push(String((error as Error)?.message ?? error).slice(0, 300));
        }
        out[arm]!.latencies.push(performance.now() - started);
        out[arm]!.failed.push(failed);
      }
      i++;
    }
    result.perOp[name] = { floor: out[0]!, handler: out[1]!, rounds: i };
  }
  process.stdout.write(`result ${JSON.stringify(result)}\n`);
  await closeScylla().catch(() => undefined);
  await closePostgres().catch(() => undefined);
  process.exit(0);
}

/** Starts `processes` workers on `fixture`, runs `ops` for `seconds` each, returns every worker's samples. */
export async function runConcurrency8(fixture: Fixture, ops: OperationName[], seconds: number, processes = 8): Promise<{ workers: WorkerResult[]; startErrors: string[] }> {
  const script = fileURLToPath(import.meta.url);
  const plan: WorkerPlan = { fixture, ops, seconds };
  const startErrors: string[] = [];
  const children = Array.from({ length: processes }, () => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: join(import.meta.dirname, '..', '..'),
      env: { ...process.env, BENCH_C8: JSON.stringify(plan) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-2000)));
    const lines = createInterface({ input: child.stdout });
    const ready = new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => line === 'ready' && resolve());
      child.once('exit', (code) => reject(new Error(`worker exited ${code} before ready: ${stderr.slice(-500)}`)));
    });
    const done = new Promise<WorkerResult | undefined>((resolve) => {
      lines.on('line', (line) => line.startsWith('result ') && resolve(JSON.parse(line.slice(7)) as WorkerResult));
      child.once('exit', (code) => {
        if (code !== 0) startErrors.push(`worker ${child.pid} exited ${code}: ${stderr.slice(-300)}`);
        resolve(undefined);
      });
    });
    return { child, ready, done };
  });
  try {
    await Promise.all(children.map((c) => c.ready));
  } catch (error) {
    for (const c of children) c.child.kill();
    throw error;
  }
  // Every worker starts its first operation at the same moment, a little after all of them are told.
  const go = Date.now() + 1000;
  for (const c of children) c.child.stdin.write(`${go}\n`);
  const workers = (await Promise.all(children.map((c) => c.done))).filter((w): w is WorkerResult => w !== undefined);
  return { workers, startErrors };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.env.BENCH_C8) {
  await worker(JSON.parse(process.env.BENCH_C8) as WorkerPlan);
}
