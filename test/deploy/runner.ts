/**
 * Runs a function's bundle the way the Lambda Node.js runtime does: a fresh Node 22 process per function (kept
 * warm across invocations), cwd and LAMBDA_TASK_ROOT a copy of the bundle directory, the handler module found
 * from the Handler setting (`index.handler` → index.js, index.mjs or index.cjs), called with (event, context),
 * and an environment of exactly the template's variables plus what Lambda sets. The task directory's
 * node_modules holds only the AWS SDK (it ships with the runtime), so a dependency a bundle lacks fails here
 * as it would in Lambda.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** The runtime's side: import the handler once (init), then serve invocations read from stdin, answer on fd 3. */
const BOOTSTRAP = String.raw`
import { createWriteStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const answers = createWriteStream(null, { fd: 3 });
const send = (message) => answers.write(JSON.stringify(message) + '\n');
const serialize = (error) => ({
  errorType: error?.name ?? typeof error,
  errorMessage: error?.message ?? String(error),
  stack: typeof error?.stack === 'string' ? error.stack.split('\n') : [],
});
const root = process.env.LAMBDA_TASK_ROOT;
const setting = process.env._HANDLER;
const dot = setting.lastIndexOf('.');
const moduleName = setting.slice(0, dot);
const exportName = setting.slice(dot + 1);
let handler;
let initError;
const started = performance.now();
try {
  const base = join(root, moduleName);
  const file = ['.js', '.mjs', '.cjs'].map((extension) => base + extension).find((candidate) => existsSync(candidate));
  if (!file) throw Object.assign(new Error("Cannot find module '" + moduleName + "'"), { name: 'Runtime.ImportModuleError' });
  const module = await import(pathToFileURL(file).href);
  handler = module[exportName] ?? module.default?.[exportName];
  if (typeof handler !== 'function') throw Object.assign(new Error(setting + ' is undefined or not exported'), { name: 'Runtime.HandlerNotFound' });
} catch (error) {
  initError = error;
}
send({ type: 'ready', initMs: performance.now() - started, error: initError ? serialize(initError) : undefined });

for await (const line of createInterface({ input: process.stdin })) {
  const request = JSON.parse(line);
  const started = performance.now();
  process.env._X_AMZN_TRACE_ID = request.traceId;
  if (initError) {
    send({ type: 'result', id: request.id, ok: false, error: serialize(initError), durationMs: 0 });
    continue;
  }
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: request.invokedFunctionArn,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: request.requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(0, request.deadline - Date.now()),
  };
  try {
    const result = await new Promise((resolve, reject) => {
      const callback = (error, value) => (error ? reject(error) : resolve(value));
      Object.assign(context, { done: callback, succeed: (value) => resolve(value), fail: (error) => reject(error) });
      const returned = handler(request.event, context, callback);
      if (returned && typeof returned.then === 'function') returned.then(resolve, reject);
      else if (handler.length < 3) resolve(returned);
    });
    send({ type: 'result', id: request.id, ok: true, result: result === undefined ? null : result, durationMs: performance.now() - started });
  } catch (error) {
    send({ type: 'result', id: request.id, ok: false, error: serialize(error), durationMs: performance.now() - started });
  }
}
`;

/** The Node 22 binary (the Lambda runtime's major): node_modules/.bin/node when npm installed it, else this one. */
export function lambdaNode(projectRoot: string): string {
  const local = join(projectRoot, 'node_modules', '.bin', 'node');
  const binary = existsSync(local) ? realpathSync(local) : process.execPath;
  return binary;
}

/**
 * A node_modules with the AWS SDK only: every @aws-sdk/* package of the project and what they depend on
 * (@smithy/*, @aws-crypto/*, tslib, …), as links to the project's copies.
 */
export function sdkNodeModules(projectRoot: string, into: string): string[] {
  const root = join(projectRoot, 'node_modules');
  const linked = new Set<string>();
  const queue = readdirSync(join(root, '@aws-sdk')).map((name) => ({ name: `@aws-sdk/${name}`, from: root }));
  const visit = (packageDir: string) => {
    const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const dependency of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) queue.push({ name: dependency, from: packageDir });
  };
  while (queue.length > 0) {
    const { name, from } = queue.shift()!;
    // Node's lookup from the requiring package: its own node_modules first, then the project's.
    const nested = join(from, 'node_modules', name);
    if (from !== root && existsSync(join(nested, 'package.json'))) {
      if (!linked.has(nested)) {
        linked.add(nested);
        visit(nested);
      }
      continue;
    }
    if (linked.has(name)) continue;
    const dir = join(root, name);
    if (!existsSync(join(dir, 'package.json'))) continue; // an optional dependency not installed here
    linked.add(name);
    mkdirSync(dirname(join(into, name)), { recursive: true });
    symlinkSync(dir, join(into, name), 'dir');
    visit(dir);
  }
  return [...linked].filter((name) => !name.startsWith('/')).sort();
}

export interface InvokeResult {
  ok: boolean;
  result?: unknown;
  error?: { errorType: string; errorMessage: string; stack: string[] };
  durationMs: number;
  coldStart: boolean;
  initMs?: number;
}

export interface FunctionRuntimeOptions {
  name: string;
  bundleDir: string;
  taskRoot: string;
  sdkModules: string;
  handler: string;
  memoryMb: number;
  timeoutSeconds: number;
  environment: Record<string, string>;
  nodeBinary: string;
  bootstrapFile: string;
  invokedFunctionArn: string;
}

/** One function's warm container. */
export class FunctionProcess {
  readonly output: string[] = [];
  private child: ChildProcessWithoutNullStreams | undefined;
  private ready: Promise<{ initMs: number; error?: InvokeResult['error'] }> | undefined;
  private pending = new Map<string, (answer: { ok: boolean; result?: unknown; error?: InvokeResult['error']; durationMs: number }) => void>();
  private invocations = 0;
  private exited: string | undefined;

  constructor(private readonly options: FunctionRuntimeOptions) {}

  get started(): boolean {
    return this.child !== undefined && this.exited === undefined;
  }

  /** The process id while it runs (for the connection audit), else undefined. */
  get pid(): number | undefined {
    return this.started ? this.child?.pid : undefined;
  }

  private start(): Promise<{ initMs: number; error?: InvokeResult['error'] }> {
    const o = this.options;
    if (!existsSync(o.taskRoot)) {
      cpSync(o.bundleDir, o.taskRoot, { recursive: true });
      const modules = join(o.taskRoot, 'node_modules');
      if (existsSync(modules)) {
        for (const entry of readdirSync(o.sdkModules)) {
          if (!existsSync(join(modules, entry))) symlinkSync(join(o.sdkModules, entry), join(modules, entry), 'dir');
        }
      } else {
        symlinkSync(o.sdkModules, modules, 'dir');
      }
    }
    this.exited = undefined;
    this.invocations = 0;
    const child = spawn(o.nodeBinary, ['--expose-gc', '--max-http-header-size=81920', o.bootstrapFile], {
      cwd: o.taskRoot,
      env: o.environment,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    const capture = (stream: Readable, label: string) => {
      createInterface({ input: stream }).on('line', (line) => {
        this.output.push(`${label} ${line}`);
        if (this.output.length > 4000) this.output.splice(0, this.output.length - 4000);
      });
    };
    capture(child.stdout, '[stdout]');
    capture(child.stderr, '[stderr]');
    this.ready = new Promise((resolve, reject) => {
      const answers = createInterface({ input: (child.stdio as unknown as Readable[])[3]! });
      answers.on('line', (line) => {
        const message = JSON.parse(line) as { type: string; id?: string; initMs?: number; ok?: boolean; result?: unknown; error?: InvokeResult['error']; durationMs?: number };
        if (message.type === 'ready') resolve({ initMs: message.initMs ?? 0, error: message.error });
        if (message.type === 'result' && message.id) {
          this.pending.get(message.id)?.({ ok: message.ok ?? false, result: message.result, error: message.error, durationMs: message.durationMs ?? 0 });
          this.pending.delete(message.id);
        }
      });
      child.on('exit', (code, signal) => {
        this.exited = `the process exited (${signal ?? `code ${code}`})`;
        reject(new Error(this.exited));
        for (const settle of this.pending.values()) settle({ ok: false, error: { errorType: 'Runtime.ExitError', errorMessage: this.exited, stack: [] }, durationMs: 0 });
        this.pending.clear();
      });
    });
    const initTimeout = setTimeout(() => child.kill('SIGKILL'), 10_000 + 5_000);
    void this.ready.finally(() => clearTimeout(initTimeout)).catch(() => undefined);
    return this.ready;
  }

  async invoke(event: unknown): Promise<InvokeResult> {
    const coldStart = !this.started;
    let initMs: number | undefined;
    try {
      const init = coldStart ? await this.start() : await this.ready!;
      if (coldStart) initMs = init.initMs;
    } catch (error) {
      return { ok: false, error: { errorType: 'Runtime.InitError', errorMessage: (error as Error).message, stack: [] }, durationMs: 0, coldStart, initMs };
    }
    const id = randomUUID();
    const timeoutMs = this.options.timeoutSeconds * 1000;
    const answer = await new Promise<{ ok: boolean; result?: unknown; error?: InvokeResult['error']; durationMs: number }>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${this.options.timeoutSeconds}.00 seconds`, stack: [] }, durationMs: timeoutMs });
        this.child?.kill('SIGKILL');
      }, timeoutMs + 500);
      this.pending.set(id, (value) => {
        clearTimeout(timer);
        resolve(value);
      });
      const request = {
        id,
        event,
        requestId: randomUUID(),
        deadline: Date.now() + timeoutMs,
        invokedFunctionArn: this.options.invokedFunctionArn,
        traceId: `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=1;Lineage=1:${randomBytes(4).toString('hex')}:0`,
      };
      this.child!.stdin.write(`${JSON.stringify(request)}\n`);
    });
    this.invocations++;
    return { ...answer, coldStart, initMs };
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || this.exited !== undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin.end();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }
}

export function writeBootstrap(runtimeDir: string): string {
  mkdirSync(runtimeDir, { recursive: true });
  const file = join(runtimeDir, 'bootstrap.mjs');
  writeFileSync(file, BOOTSTRAP);
  return file;
}

/** What the Lambda service itself sets in every function's environment (beside the function's variables). */
export function lambdaEnvironment(options: {
  functionName: string;
  memoryMb: number;
  handler: string;
  taskRoot: string;
  runtimeDir: string;
  region: string;
  tracing: boolean;
  endpoints: Record<string, string>;
}): Record<string, string> {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: options.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${options.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
    // Fake credentials of the execution role: every AWS call goes to a local stand-in.
    AWS_ACCESS_KEY_ID: 'ASIAREHEARSAL0000000',
    AWS_SECRET_ACCESS_KEY: 'rehearsal/secret/access/key/0000000000000',
    AWS_SESSION_TOKEN: 'rehearsal-session-token',
    LAMBDA_TASK_ROOT: options.taskRoot,
    LAMBDA_RUNTIME_DIR: options.runtimeDir,
    _HANDLER: options.handler,
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    PATH: '/usr/local/bin:/usr/bin:/bin',
    ...(options.tracing ? { AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR', AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000', _AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1', _AWS_XRAY_DAEMON_PORT: '2000' } : {}),
    ...options.endpoints,
  };
}

/** Variables Lambda reserves: a function may not set them (CreateFunction refuses). */
export const RESERVED_VARIABLES = new Set([
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
]);
