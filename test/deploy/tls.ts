/**
 * TLS in front of the local stores, so that the bundles run the code paths they run deployed (PostgreSQL's
 * verified TLS, Scylla's `sslOptions` with a CA read from Secrets Manager):
 * - a throw-away certificate authority per store and run (openssl), each signing a server certificate for
 *   `localhost` and 127.0.0.1 / ::1. Two authorities, not one, so that trusting one says nothing of the other:
 *   a Scylla client that ignored the CA secret would not be saved by the PostgreSQL CA the process trusts;
 * - a TLS-terminating proxy for PostgreSQL's protocol (SSLRequest → 'S' → TLS, then the plain stream to the
 *   local server). A client that starts without TLS gets the refusal a server with `rds.force_ssl=1` gives;
 * - a TLS-terminating TCP proxy for CQL (TLS from the first byte: the native protocol has no STARTTLS);
 * - an audit of where each function process's TCP connections go (`ss`), so that a connection that bypasses a
 *   proxy (to the node's own rpc_address, to PostgreSQL's plain port) is caught, not merely not counted.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createSecureContext, createServer as createTlsServer, TLSSocket, type SecureContext } from 'node:tls';

export interface Authority {
  /** The CA certificate (PEM) and its file. */
  caPem: string;
  caFile: string;
  /** The server certificate and key it signed (PEM). */
  certPem: string;
  keyPem: string;
  /** The subject alternative names of the server certificate. */
  names: string[];
}

const SERVER_NAMES = ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'];

/** A throw-away CA and a server certificate it signs (P-256, valid two days), under `dir`. */
export function issueAuthority(dir: string, label: string): Authority {
  mkdirSync(dir, { recursive: true });
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const curve = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...curve, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', `/O=Deploy rehearsal/CN=${label} rehearsal CA`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', '-new', ...curve, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', `/O=Deploy rehearsal/CN=localhost`);
  writeFileSync(
    file('server.ext'),
    [
      `subjectAltName=${SERVER_NAMES.join(',')}`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid,issuer',
    ].join('\n'),
  );
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-out', file('server.pem'), '-extfile', file('server.ext'));
  return {
    caPem: readFileSync(file('ca.pem'), 'utf8'),
    caFile: file('ca.pem'),
    certPem: readFileSync(file('server.pem'), 'utf8'),
    keyPem: readFileSync(file('server.key'), 'utf8'),
    names: SERVER_NAMES,
  };
}

/** What a proxy saw: connections accepted, those that completed TLS, and every refusal or failure. */
export interface ProxyStats {
  accepted: number;
  tls: number;
  /** TLS sessions by protocol and SNI, e.g. `TLSv1.3 sni=localhost` → count. */
  sessions: Map<string, number>;
  /** When each TLS session was established (Date.now()), to attribute it to the invocation that opened it. */
  established: number[];
  /** Clients refused for speaking plain text, and TLS handshakes that failed (with the reason). */
  refused: string[];
  /** Failures to reach the store behind the proxy. */
  upstreamErrors: string[];
}

export interface Proxy {
  host: string;
  port: number;
  stats: ProxyStats;
  close(): Promise<void>;
}

const newStats = (): ProxyStats => ({ accepted: 0, tls: 0, sessions: new Map(), established: [], refused: [], upstreamErrors: [] });

function countSession(stats: ProxyStats, socket: TLSSocket): void {
  stats.tls++;
  stats.established.push(Date.now());
  const servername = (socket as TLSSocket & { servername?: string | false }).servername;
  const key = `${socket.getProtocol() ?? '?'} sni=${servername || '-'}`;
  stats.sessions.set(key, (stats.sessions.get(key) ?? 0) + 1);
}

/** Pipes a decrypted client stream to a plain connection to the store, both ways, closing both together. */
function pipeToStore(client: TLSSocket, store: { host: string; port: number }, stats: ProxyStats, head?: Buffer): void {
  const upstream = tcpConnect(store.port, store.host);
  upstream.setNoDelay(true);
  client.setNoDelay(true);
  const closeBoth = () => {
    client.destroy();
    upstream.destroy();
  };
  upstream.on('error', (error: Error) => {
    stats.upstreamErrors.push(`${store.host}:${store.port}: ${error.message}`);
    closeBoth();
  });
  client.on('error', closeBoth);
  upstream.on('close', closeBoth);
  client.on('close', closeBoth);
  if (head && head.length > 0) upstream.write(head);
  client.pipe(upstream);
  upstream.pipe(client);
}

async function listenLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function closer(server: Server, sockets: Set<Socket>): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

/** A PostgreSQL FATAL ErrorResponse, as the server sends it before closing. */
function postgresFatal(code: string, message: string): Buffer {
  const fields = Buffer.concat([
    ...[['S', 'FATAL'], ['V', 'FATAL'], ['C', code], ['M', message]].map(([type, value]) => Buffer.from(`${type}${value}\0`, 'utf8')),
    Buffer.from([0]),
  ]);
  const header = Buffer.alloc(5);
  header.write('E', 0);
  header.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([header, fields]);
}

/** The user and database of a plain StartupMessage (for the refusal's text, as PostgreSQL words it). */
function startupParameters(message: Buffer): Record<string, string> {
  const parts = message.subarray(8).toString('utf8').split('\0');
  const parameters: Record<string, string> = {};
  for (let index = 0; index + 1 < parts.length; index += 2) if (parts[index]) parameters[parts[index]!] = parts[index + 1]!;
  return parameters;
}

/**
 * PostgreSQL's TLS negotiation in front of a plain local server: the client's first message must be an
 * SSLRequest (8 bytes: length 8, code 80877103); it is answered 'S' and the socket becomes a server-side TLS
 * socket with `authority`'s certificate; the decrypted stream (the client's StartupMessage first) then goes to
 * `store` as is, with no SSLRequest of its own. A GSSENCRequest is answered 'N' (as a server without GSSAPI).
 * A client that starts with a plain StartupMessage is refused as a server with `rds.force_ssl=1` refuses it
 * (28000, "no encryption"): the rehearsal's database requires TLS, as the deployed one does.
 */
export async function startPostgresTlsProxy(authority: Authority, store: { host: string; port: number }): Promise<Proxy> {
  const stats = newStats();
  const sockets = new Set<Socket>();
  const context: SecureContext = createSecureContext({ key: authority.keyPem, cert: authority.certPem });
  const server = createTcpServer((socket) => {
    stats.accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 8) {
        const length = buffered.readInt32BE(0);
        const code = buffered.readInt32BE(4);
        if (length === 8 && code === GSSENC_REQUEST) {
          buffered = buffered.subarray(8);
          socket.write('N');
          continue;
        }
        if (length === 8 && code === SSL_REQUEST) {
          socket.off('data', onData);
          socket.pause();
          const rest = buffered.subarray(8);
          if (rest.length > 0) socket.unshift(rest);
          socket.write('S');
          const secure = new TLSSocket(socket, { isServer: true, secureContext: context });
          let established = false;
          secure.once('secure', () => {
            established = true;
            countSession(stats, secure);
            pipeToStore(secure, store, stats);
          });
          secure.on('error', (error: Error) => {
            if (!established) stats.refused.push(`TLS handshake failed: ${error.message}`);
            socket.destroy();
          });
          return;
        }
        if (length === 16 && code === CANCEL_REQUEST) {
          // A cancel request in plain text is what libpq sends too; the rehearsal does not forward it.
          stats.refused.push('a CancelRequest in plain text (not forwarded)');
          socket.end();
          return;
        }
        if (buffered.length < length) return; // the rest of a StartupMessage
        socket.off('data', onData);
        const parameters = startupParameters(buffered.subarray(0, length));
        const text = `no pg_hba.conf entry for host "${socket.remoteAddress ?? '?'}", user "${parameters.user ?? '?'}", database "${parameters.database ?? '?'}", no encryption`;
        stats.refused.push(`a client began without TLS (StartupMessage in plain text, user ${parameters.user ?? '?'}); refused: ${text}`);
        socket.end(postgresFatal('28000', text));
        return;
      }
    };
    socket.on('data', onData);
  });
  const port = await listenLoopback(server);
  return { host: '127.0.0.1', port, stats, close: closer(server, sockets) };
}

/** A TLS-terminating TCP proxy for CQL: TLS from the first byte, then the plain stream to `store`. */
export async function startCqlTlsProxy(authority: Authority, store: { host: string; port: number }): Promise<Proxy> {
  const stats = newStats();
  const sockets = new Set<Socket>();
  const server = createTlsServer({ key: authority.keyPem, cert: authority.certPem }, (secure) => {
    countSession(stats, secure);
    pipeToStore(secure, store, stats);
  });
  server.on('connection', (socket: Socket) => {
    stats.accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
    stats.refused.push(`TLS handshake failed (${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}): ${error.message}`);
  });
  const port = await listenLoopback(server);
  return { host: '127.0.0.1', port, stats, close: closer(server, sockets) };
}

export function describeProxy(name: string, proxy: Proxy): string {
  const sessions = [...proxy.stats.sessions].map(([key, count]) => `${key} ×${count}`).join(', ') || 'none';
  return `${name} TLS proxy 127.0.0.1:${proxy.port}: ${proxy.stats.accepted} connection(s), ${proxy.stats.tls} over TLS (${sessions}), ${proxy.stats.refused.length} refused`;
}

/** An established TCP connection of a process: its local and remote `address:port`. */
export interface ProcessConnection {
  local: string;
  remote: string;
}

/**
 * The established TCP connections of each process in `pids`, from `ss -Htnp` (the processes are this user's,
 * so their sockets are visible). Addresses are normalised (`[::ffff:127.0.0.1]:9042` → `127.0.0.1:9042`).
 */
export function connectionsOf(pids: number[]): Map<number, ProcessConnection[]> {
  const found = new Map<number, ProcessConnection[]>(pids.map((pid) => [pid, []]));
  if (pids.length === 0) return found;
  let output: string;
  try {
    output = execFileSync('ss', ['-Htnp', 'state', 'established'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return found;
  }
  const normal = (endpoint: string) => endpoint.replace(/^\[(?:::ffff:)?([^\]]+)\]/, '$1');
  for (const line of output.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5) continue;
    const [, , local, remote] = fields;
    for (const match of line.matchAll(/pid=(\d+)/g)) {
      const list = found.get(Number(match[1]));
      if (list) list.push({ local: normal(local!), remote: normal(remote!) });
    }
  }
  return found;
}
