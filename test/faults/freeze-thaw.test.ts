/**
 * Freeze and thaw (scylladb/python-driver#705): a warm server process is stopped (SIGSTOP) while every store
 * drops its idle connections, then resumed (SIGCONT); the first call after thaw must succeed within 1 s, for
 * Scylla, PostgreSQL and Redis alike. What each store does to the frozen process's connections:
 * - Scylla: the nodes' side of each of the process's CQL connections is aborted (`ss -K`, which resets it, as
 *   a node restart or an idle-connection reaper does); the process cannot see it until it thaws.
 * - PostgreSQL: its backends are terminated (pg_terminate_backend, what idle_session_timeout or a server
 *   restart does), found by the application_name the process connects with.
 * - Redis (the Upstash REST endpoint): the endpoint's HTTP keep-alive timeout (Node's 5 s) closes the pooled
 *   sockets while the process is stopped.
 * The process is stopped longer than all of that and than the driver's heartbeat interval (15 s).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../infra/local/jwt.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const FREEZE_MS = Number(process.env.FREEZE_THAW_MS ?? 16_000);
const THAW_BUDGET_MS = 1_000;
const appName = `freeze-thaw-${process.pid}-${Date.now()}`;

let child: ChildProcess | undefined;
let childLog = '';
let baseUrl = '';
let token = '';
const userId = randomUUID();

/** The child: the local API server (infra/local/server.ts) on this worker's stores, starting none of its own. */
const CHILD_SOURCE = `
const { loadConfig } = await import(${JSON.stringify(`file://${root}/lib/config.ts`)});
loadConfig();
const { startApiServer } = await import(${JSON.stringify(`file://${root}/infra/local/server.ts`)});
const api = await startApiServer({ port: 0 });
console.log('ready ' + api.url);
`;

function databaseUrl(): string {
  const url = new URL(process.env.DATABASE_URL!);
  url.searchParams.set('application_name', appName);
  return url.toString();
}

async function startChild(): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: databaseUrl(), METRICS_ENABLED: 'false', LOG_LEVEL: 'WARN' };
  delete env.NODE_OPTIONS;
  child = spawn(resolve(root, 'node_modules/.bin/node'), ['--import', 'tsx', '--input-type=module', '--eval', CHILD_SOURCE], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const current = child;
  return new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within 60 s:\n${childLog}`)), 60_000);
    current.stdout!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      childLog += text;
      const ready = /ready (http:\/\/\S+)/.exec(text);
      if (ready) {
        clearTimeout(timer);
        resolveUrl(ready[1]!);
      }
    });
    current.stderr!.on('data', (chunk: Buffer) => {
      childLog += chunk.toString();
    });
    current.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}):\n${childLog}`));
    });
  });
}

/** One HTTP call on a connection of its own (no keep-alive socket of the test is carried across the freeze). */
function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; ms: number }> {
  const started = performance.now();
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolveCall, reject) => {
    const req = request(
      `${baseUrl}${path}`,
      {
        method,
        agent: false,
        timeout: 10_000,
        headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const ms = performance.now() - started;
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            /* kept as text */
          }
          resolveCall({ status: response.statusCode ?? 0, body: parsed, ms });
        });
        response.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The child's TCP connections to `port` in `state` (its own side of each: local address and port). */
async function childConnections(pid: number, port: number, state = 'established'): Promise<string[]> {
  const { stdout } = await run('ss', ['-tnpH', 'state', state, `( dport = :${port} )`]);
  return stdout
    .split('\n')
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => line.trim().split(/\s+/)[2]!)
    .filter(Boolean);
}

/** Aborts the server side of each given client connection to `port` (the server resets it). */
async function dropServerSide(port: number, clients: string[]): Promise<void> {
  for (const client of clients) {
    await run('ss', ['-K', '-tnH', 'state', 'established', `( sport = :${port} and dst ${client} )`]);
  }
}

describe('freeze and thaw of a warm server process', () => {
  let channelId = '';
  let messageId = '';

  beforeAll(async () => {
    token = await mintToken({ sub: userId });
    baseUrl = await startChild();
    // Warm: every store is reached through HTTP, so each pool holds live connections.
    const channel = await call('POST', '/channels', { name: 'freeze-thaw' });
    expect(channel.status, JSON.stringify(channel.body)).toBe(201);
    channelId = channel.body.id;
    const message = await call('POST', `/channels/${channelId}/messages`, { content: 'frozen hello' });
    expect(message.status, JSON.stringify(message.body)).toBe(201);
    messageId = message.body.id;
    for (const [method, path, status, body] of [
      ['GET', `/channels/${channelId}/messages/${messageId}`, 200],
      ['GET', `/channels/${channelId}/search?q=hello`, 200],
      ['POST', `/channels/${channelId}/typing`, 204],
      ['GET', `/channels/${channelId}/typing`, 200],
      ['PUT', '/presence', 204, { status: 'online' }],
      ['GET', `/presence?user_ids=${userId}`, 200],
    ] as const) {
      const warm = await call(method, path, body);
      expect(warm.status, `${method} ${path}: ${JSON.stringify(warm.body)}`).toBe(status);
    }
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
    }
  });

  it('answers the first call to each store within 1 s of SIGCONT', async () => {
    const pid = child!.pid!;
    const cql = await childConnections(pid, 9042);
    const upstashPort = Number(new URL(process.env.UPSTASH_REDIS_REST_URL!).port);
    const upstash = await childConnections(pid, upstashPort);
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    let thawed = false;
    try {
      const backends = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [appName]);
      expect(cql.length, 'the warm process holds CQL connections').toBeGreaterThan(0);
      expect(backends.rows[0].n, 'the warm process holds PostgreSQL connections').toBeGreaterThan(0);

      const frozenAt = Date.now();
      process.kill(pid, 'SIGSTOP');
      await dropServerSide(9042, cql);
      const terminated = await admin.query('SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) t', [appName]);
      await new Promise((r) => setTimeout(r, Math.max(0, FREEZE_MS - (Date.now() - frozenAt))));
      // The Upstash endpoint's keep-alive timeout has closed the process's pooled sockets (half-closed on its side).
      const upstashClosed = await childConnections(pid, upstashPort, 'close-wait');
      process.kill(pid, 'SIGCONT');
      thawed = true;
      console.error(
        `freeze-thaw: stopped ${Date.now() - frozenAt} ms; dropped ${cql.length} CQL connection(s), terminated ${terminated.rows[0].n} PostgreSQL backend(s), ` +
          `${upstashClosed.length} of ${upstash.length} Upstash socket(s) closed by the endpoint`,
      );

      // The first call to each store, all at once right after thaw.
      const [scylla, postgres, redis] = await Promise.all([
        call('GET', `/channels/${channelId}/messages/${messageId}`),
        call('GET', `/channels/${channelId}/search?q=hello`),
        call('GET', `/presence?user_ids=${userId}`),
      ]);
      const figures = { scylla: Math.round(scylla.ms), postgres: Math.round(postgres.ms), redis: Math.round(redis.ms) };
      console.error(`freeze-thaw: first call after thaw (ms): ${JSON.stringify(figures)}; statuses ${scylla.status}/${postgres.status}/${redis.status}`);
      if (childLog.trim()) console.error(`freeze-thaw: server output:\n${childLog.split('\n').slice(-40).join('\n')}`);

      expect(scylla.status, `Scylla: ${JSON.stringify(scylla.body)}`).toBe(200);
      expect(postgres.status, `PostgreSQL: ${JSON.stringify(postgres.body)}`).toBe(200);
      expect(redis.status, `Redis: ${JSON.stringify(redis.body)}`).toBe(200);
      expect(scylla.body.id).toBe(messageId);
      expect(figures.scylla).toBeLessThan(THAW_BUDGET_MS);
      expect(figures.postgres).toBeLessThan(THAW_BUDGET_MS);
      expect(figures.redis).toBeLessThan(THAW_BUDGET_MS);

      // And the process stays healthy afterwards: a write through every store.
      const after = await call('POST', `/channels/${channelId}/typing`);
      expect(after.status).toBe(204);
      const write = await call('POST', `/channels/${channelId}/messages`, { content: 'thawed hello' });
      expect(write.status, JSON.stringify(write.body)).toBe(201);
    } finally {
      if (!thawed) child?.kill('SIGCONT');
      await admin.end();
    }
  }, 90_000);
});
