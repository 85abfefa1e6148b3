/**
 * cassandra-driver as the Lambda bundles carry it (DataStax Enterprise and Astra parts left out, see
 * infra/build/lean-bundle.ts): a probe built with the deployment's esbuild settings, run in a fresh Node
 * process with this worker's configuration, connects through the service's own client factory to the real
 * node and prepares, pages, runs LWTs, a counter update and a batch.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esbuildOptions, projectRoot } from '../../infra/cdk/bundling.js';

const PROBE = `
import cassandra from 'cassandra-driver';
import { getConfig } from './lib/config.ts';
import { createScyllaClient } from './lib/scylla/client.ts';

const config = getConfig().scylla;
const client = await createScyllaClient(config, { keyspace: config.keyspace });
const partition = process.env.PROBE_PARTITION;
const out = {};
try {
  await client.connect();
  out.connected = client.getState().getConnectedHosts().length;
  await client.execute('CREATE TABLE IF NOT EXISTS trimmed_driver_rows (p text, c int, v text, PRIMARY KEY (p, c))');
  await client.execute('CREATE TABLE IF NOT EXISTS trimmed_driver_counters (p text PRIMARY KEY, n counter)');
  const insert = 'INSERT INTO trimmed_driver_rows (p, c, v) VALUES (?, ?, ?)';
  await client.batch(Array.from({ length: 10 }, (_, c) => ({ query: insert, params: [partition, c, 'v' + c] })), { prepare: true, logged: true });
  out.pages = [];
  let pageState;
  do {
    const page = await client.execute('SELECT c, v FROM trimmed_driver_rows WHERE p = ?', [partition], { prepare: true, fetchSize: 4, pageState });
    out.pages.push(page.rows.map((row) => row.c));
    pageState = page.pageState;
  } while (pageState);
  const lwt = 'INSERT INTO trimmed_driver_rows (p, c, v) VALUES (?, ?, ?) IF NOT EXISTS';
  const first = await client.execute(lwt, [partition, 100, 'first'], { prepare: true });
  const second = await client.execute(lwt, [partition, 100, 'second'], { prepare: true });
  out.lwt = { first: first.wasApplied(), second: second.wasApplied(), kept: second.first().v };
  const bump = 'UPDATE trimmed_driver_counters SET n = n + ? WHERE p = ?';
  await client.execute(bump, [cassandra.types.Long.fromNumber(3), partition], { prepare: true });
  await client.execute(bump, [cassandra.types.Long.fromNumber(4), partition], { prepare: true });
  const counter = await client.execute('SELECT n FROM trimmed_driver_counters WHERE p = ?', [partition], { prepare: true });
  out.counter = counter.first().n.toNumber();
  try { new cassandra.mapping.Mapper(client); } catch (error) { out.mapper = error.message; }
  out.graph = await client.executeGraph('g.V()').then(() => 'ran', (error) => error.message);
} finally {
  await client.shutdown();
}
console.log(JSON.stringify(out));
`;

let dir: string;
let bundle: string;
let metafile: Metafile;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trimmed-driver-'));
  bundle = join(dir, 'index.mjs');
  const { entryPoints: _unused, ...options } = esbuildOptions(join(projectRoot, 'probe.ts'), bundle, false);
  const result = await build({
    ...options,
    stdin: { contents: PROBE, resolveDir: projectRoot, sourcefile: 'trimmed-driver-probe.mjs', loader: 'js' },
    metafile: true,
  });
  metafile = result.metafile;
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the trimmed cassandra-driver in a Lambda bundle', () => {
  it('is built with the stand-ins instead of the DSE and Astra modules', () => {
    const inputs = Object.keys(metafile.inputs);
    // A stand-in keeps the replaced module's path; what it requires is the stand-ins' own helper.
    expect(inputs.some((path) => path.endsWith('stubs/cassandra-driver/left-out.cjs'))).toBe(true);
    // Modules only the replaced ones required are not in the bundle at all.
    for (const original of ['lib/mapping/mapper.js', 'lib/datastax/graph/graph-serializer.js', 'lib/datastax/search/date-range.js', 'lib/geometry/point.js', 'lib/auth/base-dse-authenticator.js', 'lib/auth/gssapi-client.js']) {
      expect(inputs.filter((path) => path.endsWith(`cassandra-driver/${original}`)), original).toEqual([]);
    }
    // The replaced ones keep their path and hold the stand-in (a few hundred bytes, not the original's KBs).
    for (const replaced of ['lib/insights-client.js', 'lib/datastax/cloud/index.js', 'lib/datastax/graph/graph-executor.js']) {
      const [path] = inputs.filter((input) => input.endsWith(`cassandra-driver/${replaced}`));
      expect(metafile.inputs[path!]!.bytes, replaced).toBeLessThan(1000);
    }
  });

  it('connects, prepares, pages by pageState, runs LWTs, counters and a batch against the real node', () => {
    const child = spawnSync(process.execPath, [bundle], {
      env: { ...process.env, PROBE_PARTITION: randomUUID() },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.status, child.stderr).toBe(0);
    const out = JSON.parse(child.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(out.connected).toBeGreaterThan(0);
    expect(out.pages).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(out.lwt).toEqual({ first: true, second: false, kept: 'first' });
    expect(out.counter).toBe(7);
    // What was left out fails loudly, naming itself, if anything ever reaches it.
    expect(out.mapper).toMatch(/object mapper \(mapping\) is left out of this Lambda bundle/);
    expect(out.graph).toMatch(/DSE graph \(executeGraph\) is left out/);
  });
});
