/**
 * Runs the `@upstash/redis` client's own command tests (upstash/redis-js, `packages/redis/pkg/commands`)
 * against the local Upstash endpoint, and fails when a test fails that cannot-pass.json does not excuse.
 *
 *   tsx infra/local/upstash-conformance/run.ts [checkout] [--write-record] [test file filters…]
 *
 * The checkout (argument, or UPSTASH_REDIS_JS_DIR, or .local/redis-js) must have its dependencies installed
 * (`bun install`, or just `npm install --no-save uncrypto` in packages/redis); without one the run is skipped.
 * Needs `bun` (or BUN=<path>) and `redis-server` (or REDIS_SERVER=<path>). The suite runs FLUSHALL, SCRIPT
 * FLUSH and FUNCTION FLUSH, so it gets a throwaway redis-server of its own on a free port, never the shared
 * one. `--write-record` rewrites RECORD.md beside this file.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startUpstashRest } from '../upstash-rest.js';
import { judge, loadCannotPass } from './expectations.js';
import { parseJunit } from './junit.js';
import { writeRecord } from './record.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const TOKEN = 'conformance-token';

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
    probe.on('error', fail);
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((done) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        done(true);
      }).on('error', () => done(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((wait) => setTimeout(wait, 50));
  }
}

async function command(url: string, body: unknown[]): Promise<unknown> {
  const response = await fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });
  return ((await response.json()) as { result?: unknown }).result;
}

function exited(child: ChildProcess): Promise<number> {
  return new Promise((done) => child.on('exit', (code) => done(code ?? 1)));
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const writeRecordWanted = args.includes('--write-record');
  const positional = args.filter((arg) => !arg.startsWith('--'));
  const checkout = resolve(
    positional[0] && !positional[0].startsWith('pkg/') ? positional.shift()! : (process.env.UPSTASH_REDIS_JS_DIR ?? '.local/redis-js'),
  );
  const packageDir = join(checkout, 'packages/redis');
  if (!existsSync(join(packageDir, 'pkg/commands'))) {
    console.log(`upstash-conformance: skipped, no upstash/redis-js checkout at ${checkout}`);
    console.log('  get one: git clone https://github.com/upstash/redis-js <dir>; cd <dir>/packages/redis; bun install');
    return 0;
  }
  const bun = process.env.BUN ?? 'bun';
  let bunVersion: string;
  try {
    bunVersion = execFileSync(bun, ['--version'], { encoding: 'utf8' }).trim();
  } catch (error) {
    throw new Error(`cannot run bun (${bun}): install it (npm install -g bun) or set BUN=<path>`, { cause: error });
  }
  const redisJsCommit = existsSync(join(checkout, '.git'))
    ? execFileSync('git', ['-C', checkout, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()
    : 'unknown';

  const work = mkdtempSync(join(tmpdir(), 'upstash-conformance-'));
  const redisPort = await freePort();
  const redis = spawn(process.env.REDIS_SERVER ?? 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const endpoint = await (async () => {
    await waitForPort(redisPort, 5000);
    return startUpstashRest({ redisUrl: `redis://127.0.0.1:${redisPort}`, token: TOKEN });
  })().catch((error: unknown) => {
    redis.kill();
    throw error;
  });
  try {
    const info = String(await command(endpoint.url, ['INFO', 'server']));
    const redisVersion = /redis_version:([\d.]+)/.exec(info)?.[1] ?? '0.0.0';
    const junitPath = join(work, 'junit.xml');
    const logPath = join(work, 'bun-test.log');
    const filters = positional.length > 0 ? positional : ['pkg/commands'];
    console.log(`upstash-conformance: Redis ${redisVersion} on ${redisPort}, endpoint ${endpoint.url}, bun ${bunVersion}; log ${logPath}`);
    const env: NodeJS.ProcessEnv = { ...process.env, UPSTASH_REDIS_REST_URL: endpoint.url, UPSTASH_REDIS_REST_TOKEN: TOKEN };
    // Nothing in the suite may reach another Redis than the throwaway one.
    delete env.REDIS_URL;
    const log = openSync(logPath, 'w');
    const tests = spawn(bun, ['test', ...filters, '--timeout', '20000', '--reporter=junit', `--reporter-outfile=${junitPath}`], {
      cwd: packageDir,
      env,
      stdio: ['ignore', log, log],
    });
    await exited(tests);
    if (!existsSync(junitPath)) throw new Error(`bun wrote no report; see ${logPath}`);

    const outcomes = parseJunit(readFileSync(junitPath, 'utf8'));
    const entries = loadCannotPass(join(HERE, 'cannot-pass.json'));
    const { unexpectedFailures, listedButPassing } = judge(entries, outcomes, redisVersion);
    const count = (status: string) => outcomes.filter((test) => test.status === status).length;
    console.log(`upstash-conformance: ${count('pass')} pass, ${count('fail')} fail (${count('fail') - unexpectedFailures.length} excused by cannot-pass.json), ${count('skip')} skipped, of ${outcomes.length}`);
    for (const test of unexpectedFailures) console.log(`  UNEXPECTED FAILURE ${test.file} :: ${test.name}`);
    for (const test of listedButPassing) console.log(`  passes now, drop it from cannot-pass.json: ${test.file} :: ${test.name}`);
    if (writeRecordWanted) {
      const recordPath = join(HERE, 'RECORD.md');
      writeRecord(recordPath, entries, outcomes, { redisJsCommit, redisVersion, bunVersion, date: new Date().toISOString().slice(0, 10) });
      console.log(`upstash-conformance: wrote ${recordPath}`);
    }
    if (unexpectedFailures.length === 0) rmSync(work, { recursive: true, force: true });
    return unexpectedFailures.length > 0 ? 1 : 0;
  } finally {
    await endpoint.close();
    redis.kill();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('upstash-conformance:', error);
    process.exit(1);
  },
);
