/**
 * Chooses the CQL store for local runs and tests, in this order:
 * 1. `SCYLLA_CONTACT_POINTS` set in the environment: an existing cluster, used as is;
 * 2. a Docker engine answers: a ScyllaDB container through testcontainers;
 * 3. otherwise: Apache Cassandra 5 nodes on loopback, started from Maven Central jars.
 * A node already answering on 127.0.0.1:9042 is reused and left running.
 */
import { clusterSpecs, tcpPortOpen, nodeAddress, runningPid, startNode, stopNode } from './cassandra.js';

export interface CqlStore {
  kind: 'external' | 'scylla-container' | 'local-cassandra';
  contactPoints: string[];
  port: number;
  localDataCenter: string;
  /** Stops what this call started; a no-op for stores it only reused. */
  stop(): Promise<void>;
}

const SCYLLA_IMAGE = process.env.SCYLLA_IMAGE ?? 'scylladb/scylla:2025.1';

async function dockerAnswers(): Promise<boolean> {
  if (process.env.LOCAL_STORE_DOCKER === 'false') return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const client = await Promise.race([
      getContainerRuntimeClient(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 5000)),
    ]);
    return Boolean(client);
  } catch {
    return false;
  }
}

async function startScyllaContainer(log: (line: string) => void): Promise<CqlStore> {
  const { ScyllaContainer } = await import('@testcontainers/scylladb');
  log(`local-store: starting ${SCYLLA_IMAGE} through testcontainers…`);
  // Without --smp/--memory Scylla takes every core and all memory of the host.
  const container = await new ScyllaContainer(SCYLLA_IMAGE)
    .withCommand(['--smp', '1', '--memory', '1G', '--overprovisioned', '1', '--skip-wait-for-gossip-to-settle', '0'])
    .start();
  return {
    kind: 'scylla-container',
    contactPoints: [container.getHost()],
    port: container.getMappedPort(9042),
    localDataCenter: container.getDatacenter(),
    stop: async () => {
      await container.stop();
    },
  };
}

export async function acquireCqlStore(
  options: { nodes?: number; log?: (line: string) => void } = {},
): Promise<CqlStore> {
  const log = options.log ?? console.error;
  const nodes = options.nodes ?? 1;
  if (process.env.SCYLLA_CONTACT_POINTS) {
    return {
      kind: 'external',
      contactPoints: process.env.SCYLLA_CONTACT_POINTS.split(',').map((p) => p.trim()),
      port: Number(process.env.SCYLLA_PORT ?? 9042),
      localDataCenter: process.env.SCYLLA_LOCAL_DC ?? 'datacenter1',
      stop: async () => {},
    };
  }
  if (await dockerAnswers()) return startScyllaContainer(log);

  const started: number[] = [];
  const specs = clusterSpecs(nodes);
  for (const spec of specs) {
    if (await tcpPortOpen(nodeAddress(spec.index))) {
      log(`local-store: reusing the node already answering on ${nodeAddress(spec.index)}:9042`);
      continue;
    }
    if (runningPid(spec.cluster, spec.index)) await stopNode(spec.cluster, spec.index);
    try {
      await startNode(spec, { log });
    } catch (error) {
      for (const index of started) await stopNode(spec.cluster, index);
      throw error;
    }
    started.push(spec.index);
  }
  return {
    kind: 'local-cassandra',
    contactPoints: specs.map((spec) => nodeAddress(spec.index)),
    port: 9042,
    localDataCenter: 'datacenter1',
    stop: async () => {
      for (const index of started.reverse()) await stopNode(specs[0]!.cluster, index);
    },
  };
}
