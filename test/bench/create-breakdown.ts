/**
 * `npm run bench:create-breakdown`: where a create's time goes beyond its floor. Interleaved per round on the
 * app's own clients, five arms: the create handler; its floor (the logged batch, test/bench/operations.ts); the
 * write rate limit's count alone (the Upstash REST call); the channel access check alone (PostgreSQL); and an
 * empty arm (the loop's own cost). The handler runs the count and the access check side by side, then the
 * batch, so handler ≈ max(count, access) + floor + pipeline; the difference is the pipeline (middy, validation,
 * metrics, the response). Writes bench-results/create-breakdown.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { authorizeChannel } from '../../lib/channels/access.js';
import { enforceWriteRate } from '../../lib/rate-limit.js';
import { projectRoot } from '../../infra/cdk/bundling.js';
import { operations, seedFixture } from './operations.js';
import { interleave, loadAverage, percentile, round } from './stats.js';
import { benchStores } from './setup.js';

const ROUNDS = Number(process.env.BENCH_SAMPLES ?? 1000);
const log = (line: string) => console.error(`create-breakdown: ${line}`);

const { teardown } = await benchStores(log);
try {
  const before = await loadAverage();
  const fixture = await seedFixture(0);
  const create = (await operations(fixture)).createMessage;
  const principal = { userId: fixture.userId, isService: false };
  const arms = {
    handler: create.handler,
    floor: create.floor,
    rateLimitCount: () => enforceWriteRate(principal),
    accessCheck: () => authorizeChannel(principal, fixture.channelId),
    empty: () => Promise.resolve(),
  };
  const names = Object.keys(arms) as (keyof typeof arms)[];
  await interleave(100, Object.values(arms));
  const samples = await interleave(ROUNDS, Object.values(arms));
  const summary = Object.fromEntries(
    names.map((name, index) => {
      const arm = samples[index]!;
      const sorted = [...arm.latencies].sort((a, b) => a - b);
      return [name, { p50: round(percentile(sorted, 50), 3), p99: round(percentile(sorted, 99), 3), errors: arm.errors }];
    }),
  );
  const s = summary as unknown as Record<keyof typeof arms, { p50: number; p99: number }>;
  const explained = round(Math.max(s.rateLimitCount.p50, s.accessCheck.p50) + s.floor.p50, 3);
  const result = {
    startedAt: new Date().toISOString(),
    rounds: ROUNDS,
    loadAverage: { before, after: await loadAverage() },
    node: process.version,
    summary,
    p50: { handler: s.handler.p50, explainedByStores: explained, pipelineAndRest: round(s.handler.p50 - explained, 3) },
  };
  mkdirSync(join(projectRoot, 'bench-results'), { recursive: true });
  writeFileSync(join(projectRoot, 'bench-results', 'create-breakdown.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
} finally {
  await teardown();
}
