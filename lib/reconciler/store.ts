/**
 * The reconciler's own state in Scylla: the run lock (reconciler_lock), each task's resume point
 * (reconciler_checkpoints), and per linked channel the Telegram pass in progress and its last findings
 * (telegram_reconcile_state).
 */
import { randomUUID } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { conditionalWrite, read, write } from '../scylla/execute.js';

const { Long } = cassandra.types;

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

/** Missing Telegram ids, inclusive. */
export type Gap = [from: number, to: number];

/** A walk over one channel's Telegram index, so far: where it stands and what it has counted and found. */
export interface TelegramPass {
  cursor: number;
  count: number;
  lastIngestedAt: Date | null;
  gaps: Gap[];
}

/** The channel's unfinished pass, or a fresh one. */
export async function loadTelegramPass(channelId: string): Promise<TelegramPass> {
  const row = (
    await read('SELECT pass_cursor, pass_count, pass_last_ingested_at, pass_gaps FROM telegram_reconcile_state WHERE channel_id = ?', [channelId])
  ).first();
  const cursor = row?.get('pass_cursor') as cassandra.types.Long | null | undefined;
  if (!row || !cursor) return { cursor: 0, count: 0, lastIngestedAt: null, gaps: [] };
  return {
    cursor: cursor.toNumber(),
    count: (row.get('pass_count') as cassandra.types.Long | null)?.toNumber() ?? 0,
    lastIngestedAt: (row.get('pass_last_ingested_at') as Date | null) ?? null,
    gaps: JSON.parse((row.get('pass_gaps') as string | null) ?? '[]') as Gap[],
  };
}

/** Keeps a pass cut short by the time budget, for the next run to resume. */
export async function saveTelegramPass(channelId: string, pass: TelegramPass): Promise<void> {
  await write(
    'UPDATE telegram_reconcile_state SET pass_cursor = ?, pass_count = ?, pass_last_ingested_at = ?, pass_gaps = ? WHERE channel_id = ?',
    [Long.fromNumber(pass.cursor), Long.fromNumber(pass.count), pass.lastIngestedAt ?? new Date(0), JSON.stringify(pass.gaps), channelId],
  );
}

/** Records a finished pass's findings and clears the pass, so the next run starts a fresh one. */
export async function finishTelegramPass(channelId: string, gaps: Gap[], backfilled: number): Promise<void> {
  await write(
    'UPDATE telegram_reconcile_state SET gaps = ?, backfilled_count = ?, pass_cursor = ?, pass_count = ?, pass_gaps = ? WHERE channel_id = ?',
    [JSON.stringify(gaps), Long.fromNumber(backfilled), Long.fromNumber(0), Long.fromNumber(0), '[]', channelId],
  );
}
