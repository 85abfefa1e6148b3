/**
 * Brings up a fresh three-node cluster (RF 3) and the other stores for the fault suite, and stops it all at
 * the end. Refuses to run beside another node on 127.0.0.1:9042 (stop it with `npm run store -- stop`).
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { nodeDir, tcpPortOpen, startNode, stopNode } from '../../infra/local/cassandra.js';
import { startUpstashRest } from '../../infra/local/upstash-rest.js';
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, LOCAL_UPSTASH_TOKEN } from '../../infra/local/stores.js';
import { parseConfig } from '../../lib/config.js';
import { migrateAll } from '../../lib/use-cases/migrations.js';
import { dropNamespaces, workerNamespaces } from '../support/namespaces.js';
import { FAULT_CLUSTER, specs } from './cluster-control.js';
import { LOCAL_SERVICE_AUDIENCE } from '../../infra/local/jwt.js';

let upstash: Awaited<ReturnType<typeof startUpstashRest>> | undefined;
let namespaces: { keyspace: string; schema: string }[] = [];

export async function setup(project: TestProject): Promise<void> {
  if (await tcpPortOpen('127.0.0.1')) {
    throw new Error('A CQL node already answers on 127.0.0.1:9042; stop it first (npm run store -- stop), the fault suite needs 127.0.0.1-3 for its own cluster.');
  }
  const started = Date.now();
  // One at a time: Cassandra bootstraps a node only while the others are settled.
  for (const spec of specs) await startJoiningNode(spec);
  upstash = await startUpstashRest({ redisUrl: process.env.REDIS_URL ?? DEFAULT_REDIS_URL, token: LOCAL_UPSTASH_TOKEN });
  const env = {
    SCYLLA_CONTACT_POINTS: '127.0.0.1,127.0.0.2,127.0.0.3',
    SCYLLA_PORT: '9042',
    SCYLLA_LOCAL_DC: 'datacenter1',
    SCYLLA_REPLICATION: 'SimpleStrategy:3',
    DATABASE_URL: process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
    UPSTASH_REDIS_REST_URL: upstash.url,
    UPSTASH_REDIS_REST_TOKEN: LOCAL_UPSTASH_TOKEN,
    // Service tokens act as services only when issued for this audience (lib/auth/principal.ts).
    JWT_SERVICE_AUDIENCE: LOCAL_SERVICE_AUDIENCE,
    RATE_LIMIT_READS: '1000000',
  };
  namespaces = workerNamespaces(1);
  await migrateAll(parseConfig({ ...process.env, ...env, SCYLLA_KEYSPACE: namespaces[0]!.keyspace, DATABASE_SCHEMA: namespaces[0]!.schema }), () => undefined);
  console.error(`faults: three-node cluster ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  project.provide('stores', env);
  project.provide('workerNamespaces', namespaces);
}

/**
 * A joining node on a loaded 2-core machine sometimes gives up its bootstrap (gossip not settled in time):
 * wipe it and try again, twice at most, so one slow join does not fail the whole suite. A node that fails three
 * times fails the setup with its log's reason.
 */
async function startJoiningNode(spec: (typeof specs)[number]): Promise<void> {
  const options = { fresh: true, heap: process.env.CASSANDRA_HEAP ?? '768M', log: (line: string) => console.error(line) };
  for (let attempt = 1; ; attempt++) {
    try {
      await startNode(spec, options);
      return;
    } catch (error) {
      if (attempt >= 3) throw error;
      console.error(`faults: node ${spec.index} failed to start (attempt ${attempt}), retrying: ${String(error).split('\n').slice(0, 14).join('\n')}`);
      await stopNode(FAULT_CLUSTER, spec.index);
      keepFailedLog(spec.index, attempt);
      await new Promise((r) => setTimeout(r, 5_000));
    }
  }
}

/** The next attempt starts fresh (its folder wiped): the failed attempt's log is kept beside the folder. */
function keepFailedLog(index: number, attempt: number): void {
  const log = join(nodeDir(FAULT_CLUSTER, index), 'logs', 'system.log');
  if (existsSync(log)) copyFileSync(log, `${nodeDir(FAULT_CLUSTER, index)}-failed-start-${attempt}.log`);
}

export async function teardown(): Promise<void> {
  await dropNamespaces({ ...process.env, DATABASE_URL: process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL, SCYLLA_CONTACT_POINTS: '127.0.0.1,127.0.0.2,127.0.0.3' }, (name) =>
    namespaces.some((n) => n.schema === name),
  ).catch(() => undefined);
  await upstash?.close();
  for (const spec of [...specs].reverse()) await stopNode(FAULT_CLUSTER, spec.index);
}
