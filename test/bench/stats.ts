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
