/** The reconciler's run lock and resume points in Scylla. */
import { randomUUID } from 'node:crypto';
import { conditionalWrite, read, write } from '../scylla/execute.js';

export const RUN_LOCK = 'reconciler';

/**
 * Takes the run lock for `ttlSeconds` (the Lambda timeout): a second reconciler started meanwhile finds it
 * taken and exits, and a crashed one cannot hold it longer than its own timeout.
 */
export async function acquireRunLock(ttlSeconds: number): Promise<string | undefined> {
  const owner = randomUUID();
  const result = await conditionalWrite(
    `INSERT INTO reconciler_lock (name, owner, acquired_at) VALUES (?, ?, ?) IF NOT EXISTS USING TTL ${Math.max(1, Math.ceil(ttlSeconds))}`,
    [RUN_LOCK, owner, new Date()],
  );
  return result.wasApplied() ? owner : undefined;
}

export async function releaseRunLock(owner: string): Promise<void> {
  await conditionalWrite('DELETE FROM reconciler_lock WHERE name = ? IF owner = ?', [RUN_LOCK, owner]);
}

export async function loadCheckpoint(task: string): Promise<string | null> {
  const row = (await read('SELECT position FROM reconciler_checkpoints WHERE task = ?', [task])).first();
  return (row?.get('position') as string | null | undefined) ?? null;
}

export async function saveCheckpoint(task: string, position: string | null): Promise<void> {
  if (position === null) await write('DELETE FROM reconciler_checkpoints WHERE task = ?', [task]);
  else await write('INSERT INTO reconciler_checkpoints (task, position, updated_at) VALUES (?, ?, ?)', [task, position, new Date()]);
}

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
