/** Latency statistics: every figure is the median over runs of that run's percentile. */
export interface Summary {
  p50: number;
  p95: number;
  p99: number;
  runs: number;
  samples: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function summarize(runs: number[][]): Summary {
  const perRun = runs.map((samples) => [...samples].sort((a, b) => a - b));
  return {
    p50: median(perRun.map((s) => percentile(s, 50))),
    p95: median(perRun.map((s) => percentile(s, 95))),
    p99: median(perRun.map((s) => percentile(s, 99))),
    runs: runs.length,
    samples: runs.reduce((total, samples) => total + samples.length, 0),
  };
}

/** Times `count` sequential calls of `fn`, in milliseconds. */
export async function timeSequential(count: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await fn(i);
    samples.push(performance.now() - started);
  }
  return samples;
}

/** Runs `fn` from `concurrency` workers for `durationMs`; returns each call's latency and the total. */
export async function timeConcurrent(
  concurrency: number,
  durationMs: number,
  fn: (i: number) => Promise<unknown>,
): Promise<{ samples: number[]; perSecond: number; errors: number }> {
  const samples: number[] = [];
  let errors = 0;
  let next = 0;
  const deadline = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const i = next++;
        const t = performance.now();
        try {
          await fn(i);
          samples.push(performance.now() - t);
        } catch {
          errors += 1;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { samples, perSecond: samples.length / elapsed, errors };
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Every order of `n` items (n is small: the arms of one comparison). */
export function permutations(n: number): number[][] {
  if (n <= 1) return [Array.from({ length: n }, (_, i) => i)];
  return permutations(n - 1).flatMap((rest) => Array.from({ length: n }, (_, at) => [...rest.slice(0, at), n - 1, ...rest.slice(at)]));
}

/**
 * Times `count` rounds of every arm, one sample of each per round, so the arms share the machine's moments
 * (a GC pause, a compaction, a neighbour's burst) instead of each getting a block of its own; the rounds cycle
 * through every order of the arms, so none always runs first or always right after a given other one (two
 * arms simply alternate their order). A call that throws (or whose result `check` refuses) is counted as that arm's
 * error and its time kept apart, never mixed into the latencies and never dropped silently.
 */
export async function timeInterleaved(
  count: number,
  arms: readonly ((i: number) => Promise<unknown>)[],
  check: (arm: number, result: unknown) => string | undefined = () => undefined,
): Promise<{ samples: number[][]; errors: number[]; firstErrors: string[] }> {
  const samples = arms.map(() => [] as number[]);
  const errors = arms.map(() => 0);
  const firstErrors: string[] = [];
  const orders = permutations(arms.length);
  for (let i = 0; i < count; i++) {
    for (const arm of orders[i % orders.length]!) {
      const started = performance.now();
      let problem: string | undefined;
      try {
        problem = check(arm, await arms[arm]!(i));
      } catch (error) {
        problem = (error as Error).message ?? String(error);
      }
      const elapsed = performance.now() - started;
      if (problem === undefined) samples[arm]!.push(elapsed);
      else {
        errors[arm]! += 1;
        if (firstErrors.length < 5) firstErrors.push(`arm ${arm}: ${problem.slice(0, 300)}`);
      }
    }
  }
  return { samples, errors, firstErrors };
}

/** Each run's own p50 and p99, to show how far apart runs land (the summary is their median). */
export function perRunPercentiles(runs: number[][]): { p50: number; p99: number }[] {
  return runs.map((samples) => {
    const sorted = [...samples].sort((a, b) => a - b);
    return { p50: round(percentile(sorted, 50), 3), p99: round(percentile(sorted, 99), 3) };
  });
}

/**
 * An A/A check of one arm: its samples split into two halves, alternate blocks of `block` rounds (the number of
 * arm orders timeInterleaved cycles through, so each half holds every order equally often), summarised apart.
 * Two halves of the same calls, taken in turn, differ only by noise; their ratio bounds what a difference
 * between arms can be trusted to mean. (A failed call shifts the later blocks by one sample.)
 */
export function splitHalves(runs: number[][], block = 1): { first: Summary; second: Summary; ratioP50: number; ratioP99: number } {
  const half = (which: number) => runs.map((samples) => samples.filter((_, i) => Math.floor(i / block) % 2 === which));
  const first = summarize(half(0));
  const second = summarize(half(1));
  return { first, second, ratioP50: round(second.p50 / first.p50, 3), ratioP99: round(second.p99 / first.p99, 3) };
}

/** How many orders timeInterleaved cycles through for `arms` arms. */
export const ordersOf = (arms: number): number => (arms <= 1 ? 1 : arms * ordersOf(arms - 1));

/**
 * One arm's calls of an interleaved comparison: every call's latency in round order, failed calls included
 * (a failure takes time too; dropping it would flatter the arm), and the failures counted by kind.
 */
export interface ArmSamples {
  latencies: number[];
  failed: boolean[];
  errors: Record<string, number>;
  firstErrors: string[];
}

/** The kind of a failure, for counting: the error's class (or HTTP status) and the first words of its message. */
export function errorKind(error: unknown): string {
  const e = error as { name?: string; message?: string };
  const message = String(e?.message ?? error);
  const status = /^[A-Z]+ \S+: (\d{3})/.exec(message)?.[1];
  return status ? `HTTP ${status}` : `${e?.name ?? 'Error'}: ${message.split(/[\s:]+/).slice(0, 4).join(' ')}`;
}

/**
 * Times `count` rounds of every arm, one call of each per round; the rounds cycle through every order of the
 * arms (two arms: A B, then B A), so neither always runs first. Every call's latency is kept, in round order,
 * so the arms stay paired round by round (for paired bootstrap), a failure included and counted by kind.
 */
export async function interleave(count: number, arms: readonly ((i: number) => Promise<unknown>)[]): Promise<ArmSamples[]> {
  const out: ArmSamples[] = arms.map(() => ({ latencies: [], failed: [], errors: {}, firstErrors: [] }));
  const orders = permutations(arms.length);
  for (let i = 0; i < count; i++) {
    for (const arm of orders[i % orders.length]!) {
      const started = performance.now();
      let failure: unknown;
      let failedCall = false;
      try {
        await arms[arm]!(i);
      } catch (error) {
        failure = error;
        failedCall = true;
      }
      const target = out[arm]!;
      target.latencies.push(performance.now() - started);
      target.failed.push(failedCall);
      if (failedCall) {
        const kind = errorKind(failure);
        target.errors[kind] = (target.errors[kind] ?? 0) + 1;
        if (target.firstErrors.length < 3) target.firstErrors.push(String((failure as Error)?.message ?? failure).slice(0, 300));
      }
    }
  }
  return out;
}

/** Errors of several runs of one arm, added up by kind. */
export function mergeErrors(all: readonly Record<string, number>[]): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const errors of all) for (const [kind, n] of Object.entries(errors)) merged[kind] = (merged[kind] ?? 0) + n;
  return merged;
}

export const errorTotal = (errors: Record<string, number>) => Object.values(errors).reduce((a, b) => a + b, 0);

/** A small, seeded generator (mulberry32): the bootstrap gives the same interval for the same samples. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function percentileOf(values: Float64Array, p: number): number {
  const index = Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1));
  return values[index]!;
}

export interface RatioEstimate {
  /** B's percentile over A's, on all the samples. */
  ratio: number;
  /** The 95 % percentile-bootstrap interval of that ratio (rounds resampled as pairs). */
  ci95: [number, number];
  a: number;
  b: number;
}

/**
 * The ratio of B's to A's `p`th percentile, with a 95 % confidence interval by the percentile bootstrap over
 * rounds: each resample draws rounds with replacement and keeps a round's A and B together, so a moment that
 * slowed both (a GC pause, a neighbour's burst) stays shared as it was. `a` and `b` are paired by index
 * (interleave's output); when their lengths differ (arms of different sizes), each is resampled on its own.
 */
export function bootstrapRatio(a: readonly number[], b: readonly number[], p: number, resamples = 2000, seed = 1): RatioEstimate {
  const sortedA = Float64Array.from(a).sort();
  const sortedB = Float64Array.from(b).sort();
  const pa = percentileOf(sortedA, p);
  const pb = percentileOf(sortedB, p);
  const random = seededRandom(seed);
  const paired = a.length === b.length;
  const drawA = new Float64Array(a.length);
  const drawB = new Float64Array(b.length);
  const ratios = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < a.length; i++) {
      const k = Math.floor(random() * a.length);
      drawA[i] = a[k]!;
      if (paired) drawB[i] = b[k]!;
    }
    if (!paired) for (let i = 0; i < b.length; i++) drawB[i] = b[Math.floor(random() * b.length)]!;
    drawA.sort();
    drawB.sort();
    ratios[r] = percentileOf(drawB, p) / percentileOf(drawA, p);
  }
  ratios.sort();
  return { ratio: round(pb / pa, 3), ci95: [round(percentileOf(ratios, 2.5), 3), round(percentileOf(ratios, 97.5), 3)], a: round(pa, 3), b: round(pb, 3) };
}

/** The machine's load average (1, 5, 15 min), rounded. */
export async function loadAverage(): Promise<number[]> {
  const { loadavg } = await import('node:os');
  return loadavg().map((x) => round(x, 2));
}
