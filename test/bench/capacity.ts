/**
 * `npm run bench:capacity`: writes docs/capacity.md, the capacity and cost projection, from
 * bench-results/results.json (or the file named as the first argument) and the prices cited below. Every number
 * in the document is either a figure of that run (named by its id), a count of what the code sends (named by
 * where it is defined), a cited price or vendor figure, or arithmetic on those, shown as it is done.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../infra/cdk/bundling.js';
import { indexMessagesFunction, routeNamed } from '../../functions/routes.js';
import { MINTED_SEQUENCES, LEASABLE_WORKER_IDS, BUCKET_MS } from '../../lib/ids/snowflake.js';
import { OUTBOX_SHARDS } from '../../lib/search/outbox.js';
import type { Figure } from './figures.js';

/** Prices and vendor figures, each with where it comes from (us-east-1, on demand, as of 2026). */
const CITED = {
  lambdaGbSecondArm: { value: 0.0000133334, source: 'AWS Lambda pricing, arm64 duration, first 7.5 billion GB-s a month (https://aws.amazon.com/lambda/pricing/)' },
  lambdaPerMillionRequests: { value: 0.2, source: 'AWS Lambda pricing, requests (https://aws.amazon.com/lambda/pricing/)' },
  httpApiPerMillion: { value: 1.0, source: 'Amazon API Gateway pricing, HTTP APIs, first 300 million requests a month (https://aws.amazon.com/api-gateway/pricing/)' },
  eventBridgePerMillion: { value: 1.0, source: 'Amazon EventBridge pricing, custom events published to an event bus, per 64 KB chunk (https://aws.amazon.com/eventbridge/pricing/)' },
  scyllaOpsPerCore: {
    value: 12_500,
    source: 'ScyllaDB, "Maximizing ScyllaDB Performance": "expect to get at least 12.5K operations per second (OPS) per physical core for simple operations" (https://docs.scylladb.com/manual/stable/operating-scylla/procedures/tips/benchmark-tips.html)',
  },
  lambdaFullVcpuMb: { value: 1769, source: 'AWS Lambda: a function with 1,769 MB has the equivalent of one vCPU; CPU is allocated in proportion to memory (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html)' },
  largePartitionRows: { value: 100_000, source: 'ScyllaDB scylla.yaml `compaction_rows_count_warning_threshold` default; large partitions are listed in system.large_partitions (https://docs.scylladb.com/manual/stable/troubleshooting/large-partition-table.html)' },
  largePartitionMb: { value: 1000, source: 'ScyllaDB scylla.yaml `compaction_large_partition_warning_threshold_mb` default (same page)' },
};

/** Replication factor of the projection (the stack's default replication names RF 3 in the local DC). */
const RF = 3;
/**
 * What one message create makes Scylla do, counted from the code (the bench's floor check proves the handler
 * sends exactly the floor's statements: test/bench/operations.ts): one logged batch of 4 mutations (message row,
 * `message.created` change, channel_metadata.last_message_id, search-outbox row; the bucket index row once per
 * container and bucket is left out), each written to RF replicas, plus the batchlog (written to 2 nodes, then
 * removed from both); then the indexer's read of the message at LOCAL_ONE (1 replica).
 */
const CREATE_MUTATIONS = 4;
const CREATE_REPLICA_OPS = CREATE_MUTATIONS * RF + 2 + 2 + 1;
/** A get: the message row and its reply count, each at LOCAL_ONE. */
const GET_REPLICA_OPS = 2;
/** Stored bytes per message on one replica, before compression: a 200-character message row with its keys and the change row. */
const MESSAGE_BYTES = 600;

const resultsPath = process.argv[2] ?? join(projectRoot, 'bench-results', 'results.json');
const results = JSON.parse(readFileSync(resultsPath, 'utf8')) as { figures: Figure[]; startedAt: string; machine?: Record<string, unknown> };
const byId = new Map(results.figures.map((figure) => [figure.id, figure]));

function figure(id: string): Figure {
  const found = byId.get(id);
  if (!found) throw new Error(`results.json has no figure ${id}: run the whole bench (npm run bench) first`);
  return found;
}

const fmt = (value: number, digits = 2) => Number(value.toPrecision(Math.max(digits, 1))).toLocaleString('en-US', { maximumFractionDigits: 6 });
const usd = (value: number) => `$${value < 0.01 ? value.toFixed(4) : value.toFixed(2)}`;

interface LambdaRow {
  route: string;
  figureId: string;
  memoryMb: number;
}

const ROUTES: LambdaRow[] = [
  { route: 'create-message', figureId: 'warm.createMessage', memoryMb: routeNamed('create-message').memoryMb },
  { route: 'get-message', figureId: 'warm.getMessage', memoryMb: routeNamed('get-message').memoryMb },
  { route: 'list-messages', figureId: 'warm.listMessages', memoryMb: routeNamed('list-messages').memoryMb },
  { route: 'put-reaction', figureId: 'warm.addReaction', memoryMb: routeNamed('put-reaction').memoryMb },
  { route: 'get-telegram-message', figureId: 'warm.telegramMessage', memoryMb: routeNamed('get-telegram-message').memoryMb },
];

const lines: string[] = [];
const out = (line = '') => lines.push(line);

out('# Capacity and cost, projected from the bench');
out();
out(`_Generated by \`npm run bench:capacity\` from \`bench-results/results.json\` (run started ${results.startedAt}); do not edit by hand. Every number is a figure of that run (named by its id), a count of what the code sends, a cited price or vendor figure, or arithmetic on those, shown._`);
out();
out('The bench runs on one 2-core machine with one Cassandra node sharing the cores; these projections take what it measures per request (latency, statements) and scale it with cited per-unit prices and per-core throughput, not with this machine\'s throughput.');
out();

out('## Lambda: requests per GB-second, per route');
out();
out(`A warm request is billed for its duration × memory. The bench measures each handler in-process on this machine (about one vCPU per process); a Lambda with M MB has M / ${CITED.lambdaFullVcpuMb.value} of a vCPU (${CITED.lambdaFullVcpuMb.source}). Two bounds: **I/O-bound** (the handler's time is waiting on stores, as long in Lambda as here) and **CPU-bound** (everything above the floor's time is CPU, stretched by ${CITED.lambdaFullVcpuMb.value} / M).`);
out();
out('| route | memory | handler p50 (figure) | floor p50 | GB-s per request, I/O-bound | requests per GB-s, I/O-bound | requests per GB-s, CPU-bound |');
out('|---|---|---|---|---|---|---|');
const gbSeconds = new Map<string, { io: number; cpu: number }>();
for (const row of ROUTES) {
  const p50 = figure(`${row.figureId}.p50`);
  const floor = p50.ratio ? p50.value / p50.ratio : p50.value;
  const gb = row.memoryMb / 1024;
  const stretch = CITED.lambdaFullVcpuMb.value / row.memoryMb;
  const ioSeconds = p50.value / 1000;
  const cpuSeconds = (floor + (p50.value - floor) * stretch) / 1000;
  gbSeconds.set(row.route, { io: gb * ioSeconds, cpu: gb * cpuSeconds });
  out(`| ${row.route} | ${row.memoryMb} MB | ${fmt(p50.value, 3)} ms (\`${p50.id}\`) | ${fmt(floor, 3)} ms | ${fmt(gb * ioSeconds, 3)} | ${fmt(1 / (gb * ioSeconds), 3)} | ${fmt(1 / (gb * cpuSeconds), 3)} |`);
}
out();
out('Lambda bills whole milliseconds, so a request under 1 ms is billed 1 ms; the table does not round. Cold starts (`cold.*` figures in the README table) add their init time once per container.');
out();

out('## Scylla: messages per second per shard');
out();
out(`One create makes the cluster do ${CREATE_REPLICA_OPS} replica operations: a logged batch of ${CREATE_MUTATIONS} mutations × RF ${RF} = ${CREATE_MUTATIONS * RF}, the batchlog written to 2 nodes and removed from both (4), and the indexer's read at LOCAL_ONE (1). The handler sends exactly these statements (the bench's floor check: \`test/bench/operations.ts\`). A get is ${GET_REPLICA_OPS} reads at LOCAL_ONE (the row and its reply count).`);
out();
const perShardCreates = CITED.scyllaOpsPerCore.value / CREATE_REPLICA_OPS;
const perShardGets = CITED.scyllaOpsPerCore.value / GET_REPLICA_OPS;
out(`At ${fmt(CITED.scyllaOpsPerCore.value, 3)} simple operations per second per core (one shard per core; ${CITED.scyllaOpsPerCore.source}): **${fmt(perShardCreates, 3)} creates/s per shard** (${fmt(CITED.scyllaOpsPerCore.value, 3)} / ${CREATE_REPLICA_OPS}), or **${fmt(perShardGets, 3)} gets/s per shard**. A 3-node cluster of 8-core nodes (24 shards) then sustains about ${fmt(perShardCreates * 24, 3)} creates/s with nothing else running; mixed traffic divides the same budget.`);
out();

out('## The hottest partitions');
out();
const windowDays = BUCKET_MS / 86_400_000;
const rowsPerBucketAt1 = windowDays * 86_400;
const msgsPerSecondAtRowWarning = CITED.largePartitionRows.value / (windowDays * 86_400);
const msgsPerSecondAtSizeWarning = (CITED.largePartitionMb.value * 1024 * 1024) / MESSAGE_BYTES / (windowDays * 86_400);
out(`- **A channel's bucket.** One channel's messages of ${windowDays} days are one partition, owned by one shard on each replica. Its write rate is bounded by that shard (${fmt(CITED.scyllaOpsPerCore.value, 3)} ops/s, shared with everything else it owns), but size binds first: at 1 message/s a bucket holds ${fmt(rowsPerBucketAt1, 3)} rows. ScyllaDB flags a partition past ${fmt(CITED.largePartitionRows.value, 3)} rows (${CITED.largePartitionRows.source}) — a channel averaging ${fmt(msgsPerSecondAtRowWarning, 2)} messages/s over ${windowDays} days — and past ${CITED.largePartitionMb.value} MB (${CITED.largePartitionMb.source}), at about ${MESSAGE_BYTES} bytes a message ${fmt(msgsPerSecondAtSizeWarning, 2)} messages/s. Past that, reads of recent pages stay fast (the newest rows come first in a DESC partition), but compaction, repair and streaming of that partition slow down and its shard's latency rises for every partition it owns; the remedy (not built) is Discord's: a narrower bucket for the few channels that need it.`);
out(`- **The channel's metadata row and change partition** take one write per message each (last_message_id; the \`message.created\` change in the (channel, day) partition): the same shard-bound rate, smaller rows (the change partition is one day, TTL 30 days).`);
out(`- **The search outbox** is global: every message of the cluster writes one of ${OUTBOX_SHARDS} partitions of the current 10 s slot (\`lib/search/outbox.ts\`, OUTBOX_SHARDS). Each partition is one shard per replica, so the outbox caps the cluster at about ${OUTBOX_SHARDS} × ${fmt(CITED.scyllaOpsPerCore.value, 3)} = ${fmt(OUTBOX_SHARDS * CITED.scyllaOpsPerCore.value, 3)} messages/s before it, not the messages table, is the hot spot; raise OUTBOX_SHARDS (a power of two) well before that.`);
out();

out('## Snowflake ids');
out();
out(`- **Worker ids**: ${LEASABLE_WORKER_IDS} leasable (lib/ids/snowflake.ts), one per live container that mints (every writing function). Past it a write answers 503 \`worker_ids_exhausted\` and WorkerIdsExhausted alarms: the ceiling on concurrent writing containers of the whole stack is ${LEASABLE_WORKER_IDS}; set reserved/maximum concurrency of the writing functions to stay under it.`);
out(`- **Per container**: ${MINTED_SEQUENCES} ids per millisecond (the generator moves to the next millisecond after that; the upper sequences are Telegram's), so ${(MINTED_SEQUENCES * 1000).toLocaleString('en-US')} ids/s per container, far above one container's request rate; across the ceiling, ${(MINTED_SEQUENCES * 1000 * LEASABLE_WORKER_IDS).toLocaleString('en-US')} ids/s.`);
out();

out('## Cost per million');
out();
const create = gbSeconds.get('create-message')!;
const get = gbSeconds.get('get-message')!;
const indexerGbPerRequest = (indexMessagesFunction.memoryMb / 1024) * (figure('warm.getMessage.p50').value / 1000);
const lambdaRequestCost = CITED.lambdaPerMillionRequests.value;
const perMillionCreate = {
  apiGateway: CITED.httpApiPerMillion.value,
  lambdaRequests: 2 * lambdaRequestCost,
  lambdaDurationIo: 1e6 * (create.io + indexerGbPerRequest) * CITED.lambdaGbSecondArm.value,
  lambdaDurationCpu: 1e6 * (create.cpu + indexerGbPerRequest) * CITED.lambdaGbSecondArm.value,
  eventBridge: CITED.eventBridgePerMillion.value,
};
const scyllaCoreSecondsPerMillionCreates = (1e6 * CREATE_REPLICA_OPS) / CITED.scyllaOpsPerCore.value;
const scyllaCoreSecondsPerMillionGets = (1e6 * GET_REPLICA_OPS) / CITED.scyllaOpsPerCore.value;
out('| per million | API Gateway | Lambda requests | Lambda duration (I/O-bound – CPU-bound) | EventBridge | Scylla |');
out('|---|---|---|---|---|---|');
out(`| messages created | ${usd(perMillionCreate.apiGateway)} | ${usd(perMillionCreate.lambdaRequests)} (create + index-messages) | ${usd(perMillionCreate.lambdaDurationIo)} – ${usd(perMillionCreate.lambdaDurationCpu)} | ${usd(perMillionCreate.eventBridge)} (one \`message.created\` event) | ${fmt(scyllaCoreSecondsPerMillionCreates, 3)} core-seconds (${fmt(scyllaCoreSecondsPerMillionCreates / 3600, 3)} core-hours) at full use; ${fmt((1e6 * MESSAGE_BYTES * RF) / 1e9, 3)} GB stored (×RF ${RF}, before compression) |`);
out(`| messages read (get) | ${usd(CITED.httpApiPerMillion.value)} | ${usd(lambdaRequestCost)} | ${usd(1e6 * get.io * CITED.lambdaGbSecondArm.value)} – ${usd(1e6 * get.cpu * CITED.lambdaGbSecondArm.value)} | — | ${fmt(scyllaCoreSecondsPerMillionGets, 3)} core-seconds at full use |`);
out();
out(`The index-messages Lambda (${indexMessagesFunction.memoryMb} MB) is not benched on its own: its duration is taken as a get's (one Scylla read and one PostgreSQL upsert, against a read and a PostgreSQL member check), \`warm.getMessage.p50\`. A price per Scylla core-hour is not cited here (it depends on the instance family and on ScyllaDB Cloud or self-managed): multiply the core-hours by yours, and size for the peak, not the mean. PostgreSQL (Aurora Serverless v2: the member check per request, the search upsert per message) and Upstash (one rate-limit command per write; reads counted in the container) are left out: they are priced per ACU-hour and per command respectively, and neither is measured here.`);
out();
out('## Cited');
out();
for (const entry of Object.values(CITED)) out(`- ${entry.source}: ${entry.value}`);

const target = join(projectRoot, 'docs', 'capacity.md');
writeFileSync(target, `${lines.join('\n')}\n`);
console.error(`bench:capacity: wrote ${target}`);
