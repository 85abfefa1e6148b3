/**
 * Waits `settleMs` and re-reads, so a mismatch seen while a write was half done (row written, counter not
 * yet) is not mistaken for drift: only a mismatch that holds still across the wait is repaired.
 */
export async function stableMismatch<T>(
  observe: () => Promise<{ truth: T; recorded: T }>,
  equal: (a: T, b: T) => boolean,
  settleMs: number,
): Promise<{ truth: T; recorded: T } | undefined> {
  const first = await observe();
  if (equal(first.truth, first.recorded)) return undefined;
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  const second = await observe();
  if (equal(second.truth, second.recorded)) return undefined;
  if (!equal(first.truth, second.truth) || !equal(first.recorded, second.recorded)) return undefined;
  return second;
}
