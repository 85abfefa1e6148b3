/**
 * TLS to the stores, on the wire: a local TLS server with a certificate of its own plays the store, and the
 * clients built exactly as the service builds them (lib/postgres/pool.ts, lib/scylla/client.ts) must refuse
 * it unless its CA is the one configured. Plus the defaults: on when deployed, off locally, off in a Lambda
 * only when said.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import cassandra from 'cassandra-driver';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../lib/config.js';
import { postgresTls, withoutTlsParameters } from '../../lib/postgres/pool.js';
import { tlsOptions } from '../../lib/scylla/client.js';

let dir: string;
let cert: string;
let key: string;
const servers: net.Server[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'store-tls-'));
  // A self-signed certificate for "db.internal.example": what no public or RDS CA vouches for.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=db.internal.example', '-addext', 'subjectAltName=DNS:db.internal.example,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  key = readFileSync(join(dir, 'key.pem'), 'utf8');
});

afterAll(() => {
  for (const server of servers) server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Resolves with the TLS outcome the server saw: 'handshake' when the client completed it, or 'refused'. */
async function listen(onSocket: (socket: net.Socket, handshakes: string[]) => void): Promise<{ port: number; handshakes: string[] }> {
  const handshakes: string[] = [];
  const server = net.createServer((socket) => onSocket(socket, handshakes));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, handshakes };
}

function upgrade(socket: net.Socket, handshakes: string[]): void {
  const secure = new tls.TLSSocket(socket, { isServer: true, cert, key, secureContext: tls.createSecureContext({ cert, key }) });
  let done = false;
  secure.on('secure', () => {
    done = true;
    handshakes.push('handshake');
  });
  secure.on('error', () => undefined);
  // A client that refuses the certificate aborts the handshake: the connection closes before 'secure'.
  secure.on('close', () => {
    if (!done) handshakes.push('refused');
  });
}

/** The server sees the outcome a moment after the client does. */
async function outcome(handshakes: string[]): Promise<string[]> {
  for (let waited = 0; handshakes.length === 0 && waited < 3000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  return handshakes;
}

/** PostgreSQL's opening: an SSLRequest (8 bytes), answered 'S', then the TLS handshake. */
const postgresLike = () =>
  listen((socket, handshakes) => {
    socket.once('data', (data) => {
      expect(data.readInt32BE(4)).toBe(80877103);
      socket.write('S');
      upgrade(socket, handshakes);
    });
  });

const deployedEnv = { AWS_LAMBDA_FUNCTION_NAME: 'messages-create-message', DATABASE_URL: 'postgres://u:p@db.internal.example:5432/messages' };

describe('PostgreSQL TLS', () => {
  it('is on when deployed (against the RDS CA bundle), off locally, and off in a Lambda only when said', () => {
    const deployed = parseConfig(deployedEnv).postgres;
    expect(deployed.tls).toEqual({ enabled: true, ca: 'rds' });
    const options = postgresTls(deployed) as tls.ConnectionOptions;
    expect(options.rejectUnauthorized).toBe(true);
    const subjects = (options.ca as string[]).map((pem) => new X509Certificate(pem).subject);
    expect(subjects.some((subject) => subject.includes('Amazon RDS'))).toBe(true);
    expect(postgresTls(parseConfig({ ...deployedEnv, DATABASE_TLS_CA: 'system' }).postgres)).toEqual({ rejectUnauthorized: true });
    expect(postgresTls(parseConfig({ DATABASE_URL: 'postgres://u@127.0.0.1/x' }).postgres)).toBe(false);
    expect(postgresTls(parseConfig({ ...deployedEnv, DATABASE_TLS: 'false' }).postgres)).toBe(false);
  });

  it('lets configuration alone decide: TLS parameters in the URL are removed', () => {
    expect(withoutTlsParameters('postgres://u:p@h:5432/db?sslmode=disable&application_name=x&sslrootcert=/tmp/a&sslnegotiation=direct')).toBe('postgres://u:p@h:5432/db?application_name=x');
  });

  it('refuses a server whose certificate the RDS bundle does not vouch for, and accepts none without verification', async () => {
    const { port, handshakes } = await postgresLike();
    const config = parseConfig(deployedEnv).postgres;
    const client = new pg.Client({ connectionString: withoutTlsParameters(`postgres://u:p@127.0.0.1:${port}/messages?sslmode=no-verify`), ssl: postgresTls(config), connectionTimeoutMillis: 3000 });
    await expect(client.connect()).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    expect(await outcome(handshakes)).toEqual(['refused']);
  });
});

describe('Scylla TLS', () => {
  const scyllaConfig = (env: Record<string, string>): Config['scylla'] => parseConfig({ ...deployedEnv, ...env }).scylla;

  it('is on when deployed, off locally, and off in a Lambda only when said', () => {
    expect(scyllaConfig({}).tls.enabled).toBe(true);
    expect(scyllaConfig({ SCYLLA_TLS: 'false' }).tls.enabled).toBe(false);
    expect(parseConfig({}).scylla.tls.enabled).toBe(false);
  });

  it('reaches the driver: a server with a certificate of no trusted CA is refused before any CQL is spoken', async () => {
    const { port, handshakes } = await listen((socket, seen) => upgrade(socket, seen));
    const config = { ...scyllaConfig({}), contactPoints: ['127.0.0.1'], port, connectTimeoutMs: 2000 };
    const sslOptions = await tlsOptions(config);
    expect(sslOptions).toMatchObject({ rejectUnauthorized: true });
    const client = new cassandra.Client({ contactPoints: ['127.0.0.1'], localDataCenter: 'dc1', protocolOptions: { port }, sslOptions, socketOptions: { connectTimeout: 2000 } });
    await expect(client.connect()).rejects.toThrow();
    await client.shutdown();
    expect(await outcome(handshakes)).toContain('refused');
    expect(handshakes).not.toContain('handshake');
  });

  it('trusts the CA it is given, checked against the configured server name', async () => {
    const { port, handshakes } = await listen((socket, seen) => upgrade(socket, seen));
    const base = { ...scyllaConfig({ SCYLLA_TLS_SERVER_NAME: 'db.internal.example' }), contactPoints: ['127.0.0.1'], port };
    // The CA would come from SCYLLA_TLS_CA_SECRET_ARN; here it is handed over as the secret's value would be.
    const sslOptions = { ...(await tlsOptions(base)), ca: [cert] };
    const socket = tls.connect({ host: '127.0.0.1', port, ...sslOptions });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    // Under TLS 1.3 the client is done first; the server's side completes when it reads the client's Finished.
    expect(await outcome(handshakes)).toEqual(['handshake']);
    socket.destroy();
    // The same CA with a name the certificate does not carry: refused.
    const wrongName = { ...(await tlsOptions({ ...base, tls: { ...base.tls, serverName: 'other.example' } })), ca: [cert] };
    const refused = tls.connect({ host: '127.0.0.1', port, ...wrongName });
    await expect(
      new Promise<void>((resolve, reject) => {
        refused.once('secureConnect', resolve);
        refused.once('error', reject);
      }),
    ).rejects.toThrow(/other\.example|altnames/i);
    refused.destroy();
  });
});
