/**
 * A small Upstash-compatible REST endpoint in front of a real Redis, so that `@upstash/redis` runs unchanged
 * locally and in tests. Local tooling only: never bundled into a Lambda.
 *
 * Protocol (as Upstash and serverless-redis-http serve it): `POST /` with a JSON command array answers
 * `{"result": …}` or 400 `{"error": …}`; `POST /pipeline` and `POST /multi-exec` take an array of command
 * arrays and answer an array of those objects (a transaction Redis discards, EXECABORT, answers 400
 * `{"error"}` as a whole); `POST /subscribe/<channel>…` and `/psubscribe/<pattern>…` answer a server-sent event
 * stream (`data: message,<channel>,<message>`); `Authorization: Bearer <token>` is required; with
 * `Upstash-Encoding: base64` every string in a result is base64-encoded (the client's default).
 *
 * Upstash answers RESP2 shapes, and its client's own command tests (upstash/redis-js, see
 * infra/local/upstash-conformance/) are the judge. So the endpoint speaks RESP2 itself over plain sockets
 * rather than through a Redis client library: ioredis 5+ speaks RESP3 by default and reshapes some replies
 * (HGETALL into an object, XREAD and ZRANGE … WITHSCORES by the command's case), which leaked into answers.
 * Every HTTP request gets a connection of its own from a small pool, so one caller's SELECT, MULTI, WATCH or
 * blocking command never reaches the next caller; a connection whose state a request may have changed is
 * closed instead of going back to the pool.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';

const MAX_BODY_BYTES = 10 * 1024 * 1024;
const CONNECT_TIMEOUT_MS = 1000;
/** Idle pooled connections are closed after this long unused; the next request opens a new one. */
const IDLE_CONNECTION_MS = 30_000;
const MAX_IDLE_CONNECTIONS = 16;

/** A Redis error reply (`-ERR …`), kept apart from the transport failures, which reject instead. */
class RedisReplyError {
  constructor(readonly message: string) {}
}

type Reply = null | number | Buffer | RedisReplyError | Reply[];
type Argument = string | number | boolean;
type Command = Argument[];

// ---------------------------------------------------------------------------------------------------------
// RESP2 over one socket

/**
 * An incremental RESP2 parser. A reply split across chunks is resumed, not re-parsed: arrays keep a stack of
 * open frames, and a long bulk string waits until enough bytes have arrived before the chunks are joined.
 */
class RespParser {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private needed = 0;
  private readonly frames: { items: Reply[]; remaining: number }[] = [];

  constructor(private readonly onReply: (reply: Reply) => void) {}

  feed(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.needed) return;
    let buffer = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    let offset = 0;
    this.needed = 0;
    for (;;) {
      const parsed = this.parseOne(buffer, offset);
      if (parsed === undefined) break;
      offset = parsed.next;
      if (parsed.arrayLength !== undefined && parsed.arrayLength > 0) {
        this.frames.push({ items: [], remaining: parsed.arrayLength });
        continue;
      }
      this.complete(parsed.arrayLength === undefined ? parsed.value : parsed.arrayLength < 0 ? null : []);
    }
    buffer = buffer.subarray(offset);
    this.chunks = buffer.length > 0 ? [buffer] : [];
    this.buffered = buffer.length;
  }

  private complete(value: Reply): void {
    let reply = value;
    for (;;) {
      const frame = this.frames.at(-1);
      if (!frame) {
        this.onReply(reply);
        return;
      }
      frame.items.push(reply);
      if (--frame.remaining > 0) return;
      this.frames.pop();
      reply = frame.items;
    }
  }

  /** One scalar or one array header from `offset`, or undefined when the bytes are not all there yet. */
  private parseOne(buffer: Buffer, offset: number): { value: Reply; arrayLength?: number; next: number } | undefined {
    const lineEnd = buffer.indexOf('\r\n', offset);
    if (lineEnd < 0) return undefined;
    const type = String.fromCharCode(buffer[offset]!);
    const line = buffer.toString('utf8', offset + 1, lineEnd);
    const next = lineEnd + 2;
    switch (type) {
      case '+':
        return { value: Buffer.from(line, 'utf8'), next };
      case '-':
        return { value: new RedisReplyError(line), next };
      case ':':
        return { value: Number(line), next };
      case '$': {
        const length = Number(line);
        if (length < 0) return { value: null, next };
        if (buffer.length < next + length + 2) {
          this.needed = next + length + 2 - offset;
          return undefined;
        }
        return { value: buffer.subarray(next, next + length), next: next + length + 2 };
      }
      case '*':
        return { value: null, arrayLength: Number(line), next };
      default:
        throw new Error(`Redis sent a reply of unknown type ${JSON.stringify(type)}`);
    }
  }
}

function encodeCommand(command: readonly Argument[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${command.length}\r\n`)];
  for (const argument of command) {
    const bytes = Buffer.from(String(argument), 'utf8');
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** One RESP2 connection: commands are written in order and each caller gets its replies in order. */
class RedisConnection {
  private readonly waiting: { resolve: (reply: Reply) => void; reject: (error: Error) => void }[] = [];
  private failure: Error | undefined;
  /** Replies nobody asked for: the messages of a subscribed connection. */
  onUnsolicited: ((reply: Reply) => void) | undefined;
  private readonly closeListeners: (() => void)[] = [];

  private constructor(private readonly socket: Socket) {
    const parser = new RespParser((reply) => {
      const waiter = this.waiting.shift();
      if (waiter) waiter.resolve(reply);
      else this.onUnsolicited?.(reply);
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        parser.feed(chunk);
      } catch (error) {
        this.destroy(error as Error);
      }
    });
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy(new Error('Redis closed the connection')));
  }

  static async open(url: URL): Promise<RedisConnection> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const opened = connect({ host: url.hostname || '127.0.0.1', port: Number(url.port || 6379) });
      opened.setNoDelay(true);
      opened.setTimeout(CONNECT_TIMEOUT_MS, () => opened.destroy(new Error(`connect to Redis timed out after ${CONNECT_TIMEOUT_MS} ms`)));
      opened.once('connect', () => {
        opened.setTimeout(0);
        opened.removeListener('error', reject);
        resolve(opened);
      });
      opened.once('error', reject);
    });
    const connection = new RedisConnection(socket);
    const setup: Command[] = [];
    if (url.password) setup.push(['AUTH', ...(url.username ? [decodeURIComponent(url.username)] : []), decodeURIComponent(url.password)]);
    const database = url.pathname.replace(/^\//, '');
    if (database) setup.push(['SELECT', database]);
    const replies = setup.length > 0 ? await connection.call(setup) : [];
    const refused = replies.find((reply) => reply instanceof RedisReplyError);
    if (refused) {
      connection.destroy();
      throw new Error(`Redis refused the connection setup: ${refused.message}`);
    }
    return connection;
  }

  get usable(): boolean {
    return this.failure === undefined;
  }

  /** Writes every command at once and resolves with their replies; rejects if the connection fails first. */
  call(commands: readonly (readonly Argument[])[]): Promise<Reply[]> {
    if (this.failure) return Promise.reject(this.failure);
    const replies = commands.map(
      () => new Promise<Reply>((resolve, reject) => this.waiting.push({ resolve, reject })),
    );
    this.socket.write(Buffer.concat(commands.map(encodeCommand)));
    return Promise.all(replies);
  }

  /** Only for subscribing: the confirmations come back as unsolicited replies, one per channel. */
  send(command: readonly Argument[]): void {
    if (!this.failure) this.socket.write(encodeCommand(command));
  }

  destroy(error: Error = new Error('connection closed by the endpoint')): void {
    if (this.failure) return;
    this.failure = error;
    this.socket.destroy();
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
    for (const listener of this.closeListeners.splice(0)) listener();
  }

  whenClosed(listener: () => void): void {
    if (this.failure) listener();
    else this.closeListeners.push(listener);
  }

  setIdle(idle: boolean): void {
    if (idle) this.socket.unref();
    else this.socket.ref();
  }
}

/**
 * Commands that change a connection's state for whoever uses it next (database, transaction, watched keys,
 * subscriptions, protocol, client settings). A request that ran one closes its connection afterwards.
 */
const CONNECTION_STATE_COMMANDS = new Set([
  'SELECT', 'MULTI', 'EXEC', 'DISCARD', 'WATCH', 'UNWATCH', 'SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'UNSUBSCRIBE',
  'PUNSUBSCRIBE', 'SUNSUBSCRIBE', 'MONITOR', 'HELLO', 'RESET', 'AUTH', 'CLIENT', 'READONLY', 'READWRITE', 'QUIT',
  'SYNC', 'PSYNC', 'REPLCONF', 'ASKING',
]);

function commandName(command: readonly Argument[]): string {
  return String(command[0]).toUpperCase();
}

/** Idle connections kept for the next request; a used connection comes back only if its state is untouched. */
class RedisPool {
  private readonly idle: { connection: RedisConnection; timer: NodeJS.Timeout }[] = [];
  private readonly open = new Set<RedisConnection>();
  private closed = false;

  constructor(private readonly url: URL) {}

  async acquire(): Promise<RedisConnection> {
    while (this.idle.length > 0) {
      const { connection, timer } = this.idle.pop()!;
      clearTimeout(timer);
      if (!connection.usable) continue;
      connection.setIdle(false);
      return connection;
    }
    if (this.closed) throw new Error('the endpoint is closing');
    const connection = await RedisConnection.open(this.url);
    this.open.add(connection);
    connection.whenClosed(() => this.open.delete(connection));
    return connection;
  }

  release(connection: RedisConnection, reusable: boolean): void {
    if (!reusable || this.closed || !connection.usable || this.idle.length >= MAX_IDLE_CONNECTIONS) {
      connection.destroy();
      return;
    }
    connection.setIdle(true);
    const entry = {
      connection,
      timer: setTimeout(() => {
        const index = this.idle.indexOf(entry);
        if (index >= 0) this.idle.splice(index, 1);
        connection.destroy();
      }, IDLE_CONNECTION_MS).unref(),
    };
    this.idle.push(entry);
  }

  /** A connection outside the pool, for a subscription that holds it as long as its HTTP response lasts. */
  async dedicated(): Promise<RedisConnection> {
    const connection = await this.acquire();
    connection.setIdle(false);
    return connection;
  }

  close(): void {
    this.closed = true;
    for (const { timer } of this.idle.splice(0)) clearTimeout(timer);
    for (const connection of [...this.open]) connection.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Where Upstash answers differently from Redis 7.0

const SAME_OBJECT_ERROR = 'ERR source and destination objects are the same';

/** Upstash answers COPY of a key onto itself with 0 (not copied); Redis 7.0 answers an error. */
function adjustReply(command: readonly Argument[], reply: Reply): Reply {
  if (commandName(command) === 'COPY' && reply instanceof RedisReplyError && reply.message === SAME_OBJECT_ERROR) return 0;
  return reply;
}

/**
 * `SCAN … WITHTYPE` is Upstash's: it answers each key followed by its type. Redis 7.0 has no such option, so
 * the endpoint scans without it and asks TYPE for the keys found, on the same connection.
 */
function scanWithType(command: readonly Argument[]): Command | undefined {
  if (commandName(command) !== 'SCAN') return undefined;
  const rest: Command = [];
  let found = false;
  for (let index = 1; index < command.length; index++) {
    const argument = command[index]!;
    const option = String(argument).toUpperCase();
    if (index > 1 && option === 'WITHTYPE') {
      found = true;
      continue;
    }
    rest.push(argument);
    // MATCH, COUNT and TYPE take a value, which may itself read "withtype".
    if (index > 1 && ['MATCH', 'COUNT', 'TYPE'].includes(option) && index + 1 < command.length) rest.push(command[++index]!);
  }
  return found ? [command[0]!, ...rest] : undefined;
}

async function runScanWithType(connection: RedisConnection, scan: Command): Promise<Reply> {
  const [reply] = await connection.call([scan]);
  if (!Array.isArray(reply) || !Array.isArray(reply[1])) return reply!;
  const keys = reply[1] as Buffer[];
  const types = keys.length > 0 ? await connection.call(keys.map((key) => ['TYPE', key.toString('utf8')])) : [];
  return [reply[0]!, keys.flatMap((key, index) => [key, types[index]!])];
}

/** Runs a request's commands in order on one connection, pipelined between the commands that need a shim. */
async function runCommands(connection: RedisConnection, commands: readonly Command[]): Promise<Reply[]> {
  const replies: Reply[] = [];
  let batch: Command[] = [];
  const flush = async () => {
    if (batch.length > 0) replies.push(...(await connection.call(batch)));
    batch = [];
  };
  for (const command of commands) {
    const scan = scanWithType(command);
    if (!scan) {
      batch.push(command);
      continue;
    }
    await flush();
    replies.push(await runScanWithType(connection, scan));
  }
  await flush();
  return replies.map((reply, index) => adjustReply(commands[index]!, reply));
}

// ---------------------------------------------------------------------------------------------------------
// HTTP

function encodeResult(reply: Exclude<Reply, RedisReplyError>, base64: boolean): unknown {
  if (reply === null || typeof reply === 'number') return reply;
  if (Array.isArray(reply)) return reply.map((item) => toOutcome(item, base64, true));
  return base64 ? reply.toString('base64') : reply.toString('utf8');
}

/** A reply as Upstash answers it; an error nested in an array (a script's reply) stays in place as its message. */
function toOutcome(reply: Reply, base64: boolean, nested = false): unknown {
  if (reply instanceof RedisReplyError) return nested ? reply.message : { error: reply.message };
  const result = encodeResult(reply, base64);
  return nested ? result : { result };
}

function isCommand(value: unknown): value is Command {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((part) => typeof part === 'string' || typeof part === 'number' || typeof part === 'boolean')
  );
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent || response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

function authorized(header: string | undefined, token: string): boolean {
  const presented = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

/** Redis could not be reached or dropped the connection: the endpoint's failure, not the command's (5xx). */
class RedisUnavailable extends Error {}

/**
 * Lends a pooled connection for one request. If the caller goes away first (a blocking command it gave up
 * on), the connection is closed rather than left blocked; a connection whose state the request changed is
 * closed rather than handed to the next caller.
 */
async function withConnection<T>(
  pool: RedisPool,
  response: ServerResponse,
  commands: readonly Command[],
  use: (connection: RedisConnection) => Promise<T>,
): Promise<T> {
  let connection: RedisConnection;
  try {
    connection = await pool.acquire();
  } catch (error) {
    throw new RedisUnavailable((error as Error).message);
  }
  const abandon = () => connection.destroy(new Error('the HTTP client went away'));
  response.once('close', abandon);
  if (response.destroyed) abandon();
  try {
    return await use(connection);
  } catch (error) {
    throw new RedisUnavailable((error as Error).message);
  } finally {
    response.removeListener('close', abandon);
    pool.release(connection, !commands.some((command) => CONNECTION_STATE_COMMANDS.has(commandName(command))));
  }
}

async function handleCommand(pool: RedisPool, response: ServerResponse, command: Command, base64: boolean): Promise<void> {
  const [reply] = await withConnection(pool, response, [command], (connection) => runCommands(connection, [command]));
  send(response, reply instanceof RedisReplyError ? 400 : 200, toOutcome(reply!, base64));
}

async function handlePipeline(pool: RedisPool, response: ServerResponse, commands: Command[], base64: boolean): Promise<void> {
  const replies = await withConnection(pool, response, commands, (connection) => runCommands(connection, commands));
  send(response, 200, replies.map((reply) => toOutcome(reply, base64)));
}

/**
 * MULTI, the commands and EXEC in one write. A command Redis refuses to queue makes it discard the whole
 * transaction (EXECABORT): that is the request's error, 400, as for a single command.
 */
async function handleTransaction(pool: RedisPool, response: ServerResponse, commands: Command[], base64: boolean): Promise<void> {
  const replies = await withConnection(pool, response, commands, (connection) =>
    connection.call([['MULTI'], ...commands, ['EXEC']]),
  );
  const executed = replies.at(-1)!;
  if (executed instanceof RedisReplyError) {
    send(response, 400, { error: executed.message });
    return;
  }
  if (!Array.isArray(executed)) {
    send(response, 400, { error: 'EXECABORT Transaction discarded because a watched key changed' });
    return;
  }
  send(response, 200, executed.map((reply, index) => toOutcome(adjustReply(commands[index]!, reply), base64)));
}

/**
 * Upstash's pub/sub over HTTP: the subscription lives as long as the response, one server-sent event per
 * message (`message,<channel>,<message>`, `pmessage,<pattern>,<channel>,<message>`, and the subscribe
 * confirmations as `subscribe,<channel>,<count>`). Messages are sent as published, never base64-encoded.
 */
async function handleSubscribe(pool: RedisPool, response: ServerResponse, kind: 'SUBSCRIBE' | 'PSUBSCRIBE', names: string[]): Promise<void> {
  let connection: RedisConnection;
  try {
    connection = await pool.dedicated();
  } catch (error) {
    throw new RedisUnavailable((error as Error).message);
  }
  response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  response.flushHeaders();
  connection.onUnsolicited = (reply) => {
    if (!Array.isArray(reply)) return;
    const fields = reply.map((field) => (Buffer.isBuffer(field) ? field.toString('utf8') : typeof field === 'number' ? String(field) : ''));
    response.write(`data: ${fields.join(',')}\n\n`);
  };
  connection.whenClosed(() => response.end());
  response.once('close', () => connection.destroy());
  connection.send([kind, ...names]);
}

export interface UpstashRestOptions {
  redisUrl?: string;
  token: string;
  port?: number;
  host?: string;
}

export interface UpstashRestServer {
  url: string;
  token: string;
  close(): Promise<void>;
}

export async function startUpstashRest(options: UpstashRestOptions): Promise<UpstashRestServer> {
  const pool = new RedisPool(new URL(options.redisUrl ?? 'redis://127.0.0.1:6379'));

  const server: Server = createServer((request, response) => {
    void (async () => {
      if (!authorized(request.headers.authorization, options.token)) {
        send(response, 401, { error: 'Unauthorized' });
        return;
      }
      if (request.method !== 'POST') {
        send(response, 405, { error: 'Only POST is supported' });
        return;
      }
      const path = (request.url ?? '/').split('?')[0]!;
      const [, first = '', ...rest] = path.split('/');
      if ((first === 'subscribe' || first === 'psubscribe') && rest.length > 0) {
        await handleSubscribe(pool, response, first === 'subscribe' ? 'SUBSCRIBE' : 'PSUBSCRIBE', rest.map(decodeURIComponent));
        return;
      }
      let payload: unknown;
      try {
        payload = JSON.parse(await readBody(request));
      } catch (error) {
        send(response, 400, { error: `ERR ${(error as Error).message}` });
        return;
      }
      const base64 = String(request.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
      if (path === '/' || path === '') {
        if (!isCommand(payload)) {
          send(response, 400, { error: 'ERR the body must be a JSON array holding one command' });
          return;
        }
        await handleCommand(pool, response, payload, base64);
        return;
      }
      if (path === '/pipeline' || path === '/multi-exec') {
        if (!Array.isArray(payload) || payload.length === 0 || !payload.every(isCommand)) {
          send(response, 400, { error: 'ERR the body must be a JSON array of command arrays' });
          return;
        }
        await (path === '/pipeline' ? handlePipeline : handleTransaction)(pool, response, payload, base64);
        return;
      }
      send(response, 404, { error: `ERR unknown endpoint ${path}` });
    })().catch((error: unknown) => {
      const message = (error as Error).message;
      send(response, 500, { error: error instanceof RedisUnavailable ? `ERR Redis unavailable: ${message}` : `ERR ${message}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    token: options.token,
    close: async () => {
      pool.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
