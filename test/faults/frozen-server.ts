/**
 * Support for the freeze/thaw fault test: a local API server in a child process (so it can be stopped with
 * SIGSTOP), plain HTTP calls to it, and the means to make each store drop that child's connections while it
 * is stopped. Everything here touches only the child's own connections: other processes share these stores.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

export interface Answer {
  status: number;
  body: any;
  /** When the call was made (performance.now()) and how long its answer took. */
  started: number;
  ms: number;
}

export interface FrozenServer {
  url: string;
  pid: number;
  /** Everything the child wrote to stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

/** The process's own time over each call in `output` (its "served" lines), by method and path. */
export function servedTimes(output: string): Map<string, number> {
  const times = new Map<string, number>();
  for (const [, ms, call] of output.matchAll(/^served (\S+) (\S+ \S+)$/gm)) times.set(call!, Number(ms));
  return times;
}

/**
 * The child: the local API server (infra/local/server.ts) on the stores of this test's environment, starting
 * none of its own. FREEZE_THAW_TRACE=1 adds what each client did with its connections: the Scylla driver's
 * log, the PostgreSQL pool's connection events, fetch's (Upstash's) new connections and failed requests.
 */
const CHILD_SOURCE = `
const { loadConfig } = await import(${JSON.stringify(`file://${root}/lib/config.ts`)});
loadConfig();
const { startApiServer } = await import(${JSON.stringify(`file://${root}/infra/local/server.ts`)});
const api = await startApiServer({ port: 0 });
// How long the process itself took over each call, from the request in hand to the answer sent: on a loaded
// machine a resumed process may wait for a CPU before it even accepts, which this leaves out.
api.server.on('request', (request, response) => {
  const started = performance.now();
  response.on('finish', () => console.log('served ' + (performance.now() - started).toFixed(1) + ' ' + request.method + ' ' + request.url));
});
if (process.env.FREEZE_THAW_TRACE) {
  const trace = (what) => console.error(new Date().toISOString() + ' ' + what);
  const { getScylla } = await import(${JSON.stringify(`file://${root}/lib/scylla/client.ts`)});
  const scylla = await getScylla();
  scylla.on('log', (level, className, message) => {
    if (level !== 'verbose') trace('scylla driver ' + level + ' ' + className + ': ' + message);
  });
  for (const event of ['hostUp', 'hostDown', 'hostAdd', 'hostRemove']) scylla.on(event, (host) => trace('scylla client: ' + event + ' ' + host.address));
  const { getPostgres } = await import(${JSON.stringify(`file://${root}/lib/postgres/pool.ts`)});
  const pool = await getPostgres();
  pool.on('connect', () => trace('postgres pool: new connection'));
  pool.on('error', (error) => trace('postgres pool: idle connection failed: ' + error.message));
  pool.on('remove', () => trace('postgres pool: connection removed'));
  const channels = await import('node:diagnostics_channel');
  channels.subscribe('undici:client:connected', ({ connectParams }) => trace('fetch: new connection to ' + connectParams.host));
  channels.subscribe('undici:request:error', ({ request, error }) => trace('fetch: ' + request.method + ' ' + request.origin + request.path + ' failed: ' + error.name + ' ' + (error.code ?? '') + ' ' + error.message));
}
console.log('ready ' + api.url);
`;

/** Starts the child with `env` added to this process's environment; resolves once it listens. */
export async function startFrozenServer(env: NodeJS.ProcessEnv): Promise<FrozenServer> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, METRICS_ENABLED: 'false', LOG_LEVEL: 'WARN', ...env };
  delete childEnv.NODE_OPTIONS;
  const child: ChildProcess = spawn(resolve(root, 'node_modules/.bin/node'), ['--import', 'tsx', '--input-type=module', '--eval', CHILD_SOURCE], {
    cwd: root,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within 60 s:\n${output}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /ready (http:\/\/\S+)/.exec(output);
      if (ready) {
        clearTimeout(timer);
        resolveUrl(ready[1]!);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}):\n${output}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** One HTTP call on a connection of its own: no keep-alive socket of the test is carried across the freeze. */
export function call(baseUrl: string, token: string | undefined, method: string, path: string, body?: unknown): Promise<Answer> {
  const started = performance.now();
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string | number> = token ? { authorization: `Bearer ${token}` } : {};
  if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  return new Promise((resolveCall, reject) => {
    const req = request(`${baseUrl}${path}`, { method, agent: false, timeout: 10_000, headers }, (response) => {
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
        resolveCall({ status: response.statusCode ?? 0, body: parsed, started, ms });
      });
      response.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The process's TCP connections to `port` in `state`: its own end of each (local address:port). */
export async function connectionsOf(pid: number, port: number, state = 'established'): Promise<string[]> {
  const { stdout } = await run('ss', ['-tnpH', 'state', state, `( dport = :${port} )`]);
  return stdout
    .split('\n')
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => line.trim().split(/\s+/)[2]!)
    .filter(Boolean);
}

/**
 * Aborts the server's end of each given client connection to `port` (`ss -K` resets it, as a node restart or
 * an idle-connection reaper would), and answers how many server ends of them are still established (0 when
 * it worked). Filtered by the client's exact address and port: nobody else's connection is touched.
 */
export async function dropServerEnds(port: number, clients: string[]): Promise<number> {
  let left = 0;
  for (const client of clients) {
    const filter = `( sport = :${port} and dst ${client} )`;
    await run('ss', ['-K', '-tnH', 'state', 'established', filter]);
    const { stdout } = await run('ss', ['-tnH', 'state', 'established', filter]);
    left += stdout.split('\n').filter((line) => line.trim()).length;
  }
  return left;
}

/** The process's scheduler state from /proc (T: stopped). */
export async function processState(pid: number): Promise<string> {
  const { stdout } = await run('ps', ['-o', 'state=', '-p', String(pid)]);
  return stdout.trim();
}
