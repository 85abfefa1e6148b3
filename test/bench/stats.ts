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
