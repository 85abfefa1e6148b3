/**
 * Runs real Apache Cassandra 5.0 nodes on loopback without Docker, for local development and tests.
 *
 * The jars come from Maven Central through `infra/local/cassandra/pom.xml` and are cached under
 * `.local/cassandra/lib`; each node gets its own directory under `.local/cassandra/node<N>` and its own
 * loopback address (127.0.0.1, 127.0.0.2, …), so several can form one cluster on one machine.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = resolve(here, '..', '..');
const pomDir = join(here, 'cassandra');
export const localStoreDir = join(projectRoot, '.local', 'cassandra');
const libDir = join(localStoreDir, 'lib');

const CQL_PORT = 9042;

/** Cassandra 5.0 runs on Java 11 or 17 only; a newer default JDK would die in its security-manager call. */
function findJava17(): string {
  const candidates = [
    process.env.CASSANDRA_JAVA_HOME,
    process.env.JAVA_HOME,
    '/usr/lib/jvm/java-17-openjdk-amd64',
    '/usr/lib/jvm/java-17-openjdk-arm64',
    '/usr/lib/jvm/java-17-openjdk',
    '/usr/lib/jvm/temurin-17-jdk-amd64',
  ].filter((value): value is string => Boolean(value));
  for (const home of candidates) {
    const java = join(home, 'bin', 'java');
    if (existsSync(java) && /version "(11|17)\./.test(javaVersion(java))) return java;
  }
  const onPath = 'java';
  if (/version "(11|17)\./.test(javaVersion(onPath))) return onPath;
  throw new Error(
    'Cassandra 5.0 needs Java 17 (or 11). Install openjdk-17-jre-headless or set CASSANDRA_JAVA_HOME to a JDK 17.',
  );
}

function javaVersion(java: string): string {
  // `java -version` prints to stderr.
  const result = spawnSync(java, ['-version'], { encoding: 'utf8' });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`;
}

/** Fetches cassandra-all and its runtime dependencies once; later runs reuse the cached jars. */
export function ensureCassandraJars(log: (line: string) => void = console.error): string[] {
  const cached = existsSync(libDir) ? readdirSync(libDir).filter((name) => name.endsWith('.jar')) : [];
  if (!cached.some((name) => name.startsWith('cassandra-all-'))) {
    log('local-store: fetching Apache Cassandra from Maven Central (first run only)…');
    mkdirSync(libDir, { recursive: true });
    execFileSync(
      'mvn',
      ['-q', '-B', '-f', join(pomDir, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${libDir}`, '-DincludeScope=runtime'],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
  }
  return readdirSync(libDir).filter((name) => name.endsWith('.jar')).map((name) => join(libDir, name));
}

export interface NodeSpec {
  /** Names the cluster and its data folder: `local` for the one-node store, `faults` for the fault suite. */
  cluster: string;
  /** 1-based; node N listens on 127.0.0.N. */
  index: number;
  /** How many nodes the cluster has (token allocation is tuned for its replication). */
  size: number;
  seeds: string[];
}

export function nodeAddress(index: number): string {
  return `127.0.0.${index}`;
}

export function nodeDir(cluster: string, index: number): string {
  return join(localStoreDir, cluster, `node${index}`);
}

/** Our own record of the JVM we spawned (Cassandra deletes its own pid file early in shutdown). */
function pidFile(cluster: string, index: number): string {
  return join(nodeDir(cluster, index), 'node.pid');
}

export function logFile(cluster: string, index: number): string {
  return join(nodeDir(cluster, index), 'logs', 'system.log');
}

/** Keys as in Cassandra 5.0's own cassandra.yaml; its loader rejects unknown keys. */
function cassandraYaml(spec: NodeSpec): string {
  const dir = nodeDir(spec.cluster, spec.index);
  const address = nodeAddress(spec.index);
  return `cluster_name: ${spec.cluster}
num_tokens: 16
allocate_tokens_for_local_replication_factor: ${Math.min(3, spec.size)}
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
data_file_directories:
  - ${dir}/data
commitlog_directory: ${dir}/commitlog
saved_caches_directory: ${dir}/saved_caches
hints_directory: ${dir}/hints
cdc_raw_directory: ${dir}/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "${spec.seeds.join(',')}"
listen_address: ${address}
rpc_address: ${address}
storage_port: 7000
native_transport_port: ${CQL_PORT}
start_native_transport: true
endpoint_snitch: SimpleSnitch
auto_snapshot: false
snapshot_on_duplicate_row_detection: false
concurrent_reads: 8
concurrent_writes: 8
concurrent_counter_writes: 8
memtable_heap_space: 128MiB
memtable_offheap_space: 128MiB
key_cache_size: 16MiB
counter_cache_size: 8MiB
read_request_timeout: 5000ms
write_request_timeout: 2000ms
counter_write_request_timeout: 5000ms
cas_contention_timeout: 2000ms
paxos_variant: v2
request_timeout: 10000ms
batch_size_warn_threshold: 64KiB
batch_size_fail_threshold: 640KiB
`;
}

const JVM17_FLAGS = [
  '-XX:+UseG1GC',
  '-XX:+ParallelRefProcEnabled',
  '-XX:MaxTenuringThreshold=1',
  '-XX:G1HeapRegionSize=16m',
  '-XX:MaxGCPauseMillis=300',
  '-Djdk.attach.allowAttachSelf=true',
  '--add-exports', 'java.base/jdk.internal.misc=ALL-UNNAMED',
  '--add-exports', 'java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED',
  '--add-exports', 'java.rmi/sun.rmi.registry=ALL-UNNAMED',
  '--add-exports', 'java.rmi/sun.rmi.server=ALL-UNNAMED',
  '--add-exports', 'java.sql/java.sql=ALL-UNNAMED',
  '--add-exports', 'java.base/java.lang.ref=ALL-UNNAMED',
  '--add-exports', 'jdk.unsupported/sun.misc=ALL-UNNAMED',
  '--add-exports', 'jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED',
  '--add-exports', 'jdk.attach/sun.tools.attach=ALL-UNNAMED',
  '--add-opens', 'java.base/java.lang.module=ALL-UNNAMED',
  '--add-opens', 'java.base/jdk.internal.loader=ALL-UNNAMED',
  '--add-opens', 'java.base/jdk.internal.ref=ALL-UNNAMED',
  '--add-opens', 'java.base/jdk.internal.reflect=ALL-UNNAMED',
  '--add-opens', 'java.base/jdk.internal.math=ALL-UNNAMED',
  '--add-opens', 'java.base/jdk.internal.module=ALL-UNNAMED',
  '--add-opens', 'java.base/jdk.internal.util.jar=ALL-UNNAMED',
  '--add-opens', 'jdk.management/com.sun.management.internal=ALL-UNNAMED',
  '--add-opens', 'java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens', 'java.base/java.io=ALL-UNNAMED',
  '--add-opens', 'java.base/java.lang.reflect=ALL-UNNAMED',
  '--add-opens', 'jdk.compiler/com.sun.tools.javac=ALL-UNNAMED',
  '--add-opens', 'java.base/java.lang=ALL-UNNAMED',
  '--add-opens', 'java.base/java.util=ALL-UNNAMED',
  '-Dio.netty.tryReflectionSetAccessible=true',
  '-Dio.netty.allocator.useCacheForAllThreads=true',
  '-Dio.netty.allocator.maxOrder=11',
];

/** True when something accepts TCP on host:port (the CQL port unless told). */
export function tcpPortOpen(host: string, port = CQL_PORT, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = createConnection({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolvePromise(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function runningPid(cluster: string, index: number): number | undefined {
  if (!existsSync(pidFile(cluster, index))) return undefined;
  const pid = Number(readFileSync(pidFile(cluster, index), 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

function logTail(cluster: string, index: number, lines = 40): string {
  if (!existsSync(logFile(cluster, index))) return '(no log written)';
  const all = readFileSync(logFile(cluster, index), 'utf8').split('\n');
  // A node that fails start-up logs its reason once, then pages of shutdown flushes: put the reason first.
  const firstError = all.findIndex((line) => /^ERROR\b/.test(line) || /Exception:/.test(line));
  const reason = firstError >= 0 ? `${all.slice(firstError, firstError + 12).join('\n')}\n…\n` : '';
  return reason + all.slice(-lines).join('\n');
}

export interface StartOptions {
  heap?: string;
  fresh?: boolean;
  timeoutMs?: number;
  log?: (line: string) => void;
}

/**
 * Starts node `spec.index` in the background and waits until it answers CQL.
 * Throws with the tail of its log if it exits or does not answer in time.
 */
export async function startNode(spec: NodeSpec, options: StartOptions = {}): Promise<number> {
  const log = options.log ?? console.error;
  const java = findJava17();
  const jars = ensureCassandraJars(log);
  const jamm = jars.find((jar) => /jamm-[\d.]+\.jar$/.test(jar));
  if (!jamm) throw new Error(`local-store: no jamm jar in ${libDir}; delete the folder and retry`);

  const dir = nodeDir(spec.cluster, spec.index);
  if (options.fresh) rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  mkdirSync(join(dir, 'conf'), { recursive: true });
  const yamlPath = join(dir, 'conf', 'cassandra.yaml');
  writeFileSync(yamlPath, cassandraYaml(spec));
  const heap = options.heap ?? process.env.CASSANDRA_HEAP ?? '1G';

  const args = [
    `-Xms${heap}`,
    `-Xmx${heap}`,
    '-Xss512k',
    `-javaagent:${jamm}`,
    ...JVM17_FLAGS,
    `-Dcassandra.config=file://${yamlPath}`,
    `-Dcassandra.storagedir=${dir}`,
    `-Dcassandra.logdir=${join(dir, 'logs')}`,
    `-Dlogback.configurationFile=${join(pomDir, 'logback.xml')}`,
    '-Dcassandra-foreground=yes',
    '-Dcassandra.skip_wait_for_gossip_to_settle=0',
    `-Dcassandra.ring_delay_ms=${spec.seeds.length > 1 ? 5000 : 1000}`,
    // Nodes are started one after the other; the seed's gossip view of the previous joiner can lag its CQL
    // port by a moment, and with the strict check that lag refuses the next bootstrap (exit code 3).
    '-Dcassandra.consistent.rangemovement=false',
    '-Dcassandra.superuser_setup_delay_ms=0',
    // No fsync: this node holds throw-away test data only.
    '-Dcassandra.unsafesystem=true',
    '-cp',
    jars.join(':'),
    'org.apache.cassandra.service.CassandraDaemon',
  ];
  const child = spawn(java, args, {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore'],
    cwd: dir,
  });
  child.unref();
  if (child.pid) writeFileSync(pidFile(spec.cluster, spec.index), String(child.pid));
  // Set by the listener; an object so the loop below does not narrow it to its initial value.
  const exited: { code?: number } = {};
  child.once('exit', (code) => {
    exited.code = code ?? -1;
  });

  const address = nodeAddress(spec.index);
  const deadline = Date.now() + (options.timeoutMs ?? 180_000);
  log(`local-store: starting Cassandra node ${spec.index} on ${address}:${CQL_PORT} (heap ${heap})…`);
  while (Date.now() < deadline) {
    if (exited.code !== undefined) {
      throw new Error(
        `local-store: Cassandra node ${spec.index} exited with code ${exited.code} during start-up. Log tail (${logFile(spec.cluster, spec.index)}):\n${logTail(spec.cluster, spec.index)}`,
      );
    }
    if (await tcpPortOpen(address)) {
      log(`local-store: node ${spec.index} answers CQL on ${address}:${CQL_PORT}`);
      return child.pid ?? 0;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await stopNode(spec.cluster, spec.index);
  throw new Error(
    `local-store: Cassandra node ${spec.index} did not answer CQL on ${address}:${CQL_PORT} within ${(options.timeoutMs ?? 180_000) / 1000}s. Log tail (${logFile(spec.cluster, spec.index)}):\n${logTail(spec.cluster, spec.index)}`,
  );
}

/** Stops node `index` if this project started it (its pid file names a live process). */
export async function stopNode(cluster: string, index: number, timeoutMs = 30_000): Promise<boolean> {
  const pid = runningPid(cluster, index);
  if (!pid) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!runningPid(cluster, index)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (runningPid(cluster, index)) process.kill(pid, 'SIGKILL');
  rmSync(pidFile(cluster, index), { force: true });
  return true;
}

export function clusterSpecs(nodes: number, cluster = nodes === 1 ? 'local' : `cluster${nodes}`): NodeSpec[] {
  const seeds = [`${nodeAddress(1)}:7000`];
  return Array.from({ length: nodes }, (_, i) => ({ cluster, index: i + 1, size: nodes, seeds }));
}
