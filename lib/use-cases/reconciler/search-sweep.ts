/**
 * The search index's guarantee: nothing stays unsearchable after an outage. Every message write leaves a row
 * in the search outbox (lib/search/outbox.ts) in its own batch; the indexer applies it at once from the
 * changes bus, but that is at most once. This sweep reads the outbox slot by slot from its checkpoint, only
 * slots older than the grace (the indexer's turn, and batchlog replays), checks each slot's messages against
 * PostgreSQL in bulk (does the index hold a state at least as new as the write?), re-applies only those it does
 * not, and moves the checkpoint past the slot. PostgreSQL or Scylla down: it stops where it is, and the next
 * run resumes there. Data PostgreSQL refuses goes to the dead letters, as the indexer's does.
 */
import { StoreUnavailableError } from '../../errors.js';
import { log } from '../../log.js';
import { countMetric, METRIC } from '../../observability/metrics.js';
import { loadCheckpoint, saveCheckpoint } from '../../reconciler/store.js';
import { indexedVersions, versionKey } from '../../search/index-store.js';
import { setAsideIndexing } from '../../search/indexer.js';
import { OUTBOX_SHARDS, OUTBOX_SLOT_MS, OUTBOX_TTL_MS, outboxSlot, slotOf, type OutboxEntry } from '../../search/outbox.js';
import { mapConcurrently } from '../../scylla/execute.js';
import { applyMessageSearchState } from '../search-indexing.js';
import type { Budget } from './budget.js';

/** The checkpoint: the next slot to sweep (every slot before it is done). */
export const SWEEP_TASK = 'search-outbox';
/**
 * A slot is swept once its end is this far in the past: the indexer has had its turn, and a write's batch that
 * lands late (a batchlog replay after a coordinator died) has landed.
 */
export const SWEEP_GRACE_MS = 120_000;
/**
 * Where the very first run starts (no checkpoint yet: the outbox is new). Saved at once, so a first run that
 * stops early does not move it.
 */
const FIRST_LOOKBACK_MS = 15 * 60_000;
/** Slots read per step (a minute), each in all its shards, before one bulk check. */
const SLOTS_PER_STEP = 6;
const READ_CONCURRENCY = 16;
/** Messages per bulk check query. */
const CHECK_CHUNK = 500;
const APPLY_CONCURRENCY = 8;

/*
 * Metrics: SearchSweepLag, seconds between now and the oldest moment the sweep has not covered (alarmed);
 * SearchSweepRepaired, messages the sweep applied because the indexer had not (an event lost or failed).
 */

export interface SweepReport {
  /** Slots finished this run (each in every shard). */
  slots: number;
  /** Outbox rows checked against PostgreSQL. */
  checked: number;
  /** Messages re-applied (the index held an older state, or none). */
  repaired: number;
  deadLettered: number;
  /** How far behind now the checkpoint is, in seconds, after this run. */
  lagSeconds: number;
  complete: boolean;
  error?: string;
}

/** The newest write per message among the entries: the one the index has to have caught up with. */
function newestPerMessage(entries: readonly OutboxEntry[]): OutboxEntry[] {
  const newest = new Map<string, OutboxEntry>();
  for (const entry of entries) {
    const key = versionKey(entry.channelId, entry.messageId);
    const seen = newest.get(key);
    if (!seen || seen.writtenMicros < entry.writtenMicros) newest.set(key, entry);
  }
  return [...newest.values()];
}

/** Checks the entries against the index and re-applies the stale ones. Throws StoreUnavailableError. */
async function repair(entries: readonly OutboxEntry[], report: SweepReport): Promise<void> {
  const wanted = newestPerMessage(entries);
  for (let start = 0; start < wanted.length; start += CHECK_CHUNK) {
    const chunk = wanted.slice(start, start + CHECK_CHUNK);
    const versions = await indexedVersions(chunk);
    report.checked += chunk.length;
    const stale = chunk.filter((entry) => (versions.get(versionKey(entry.channelId, entry.messageId)) ?? -1n) < entry.writtenMicros);
    await mapConcurrently(stale, APPLY_CONCURRENCY, async (entry) => {
      try {
        await applyMessageSearchState(entry.channelId, entry.messageId);
        report.repaired += 1;
      } catch (error) {
        if (error instanceof StoreUnavailableError) throw error;
        await setAsideIndexing(entry.channelId, entry.messageId, entry.operation, error as Error);
        report.deadLettered += 1;
      }
    });
  }
}

/** The next slot to sweep: the checkpoint, or (first run) a start saved now. */
async function startSlot(now: number): Promise<number> {
  const saved = await loadCheckpoint(SWEEP_TASK);
  if (saved !== null) return Number(saved);
  const start = slotOf(now - FIRST_LOOKBACK_MS);
  await saveCheckpoint(SWEEP_TASK, String(start));
  return start;
}

/**
 * Sweeps every slot that is older than the grace and not swept yet, within the budget. `now` and `graceMs` are
 * the clock and the grace (tests shorten the grace to sweep a slot as soon as it is over).
 */
export async function sweepSearchOutbox(budget: Budget, options: { now?: number; graceMs?: number } = {}): Promise<SweepReport> {
  const now = options.now ?? Date.now();
  const lastDone = slotOf(now - (options.graceMs ?? SWEEP_GRACE_MS)) - 1;
  const report: SweepReport = { slots: 0, checked: 0, repaired: 0, deadLettered: 0, lagSeconds: 0, complete: false };
  let next: number | undefined;
  try {
    next = await startSlot(now);
    const oldestKept = slotOf(now - OUTBOX_TTL_MS) + 1;
    if (next < oldestKept) {
      // Rows before this have expired: messages written then and missed by the indexer are not found here.
      log().error('search sweep fell behind the outbox TTL; skipping expired slots', { from: next, to: oldestKept });
      next = oldestKept;
    }
    while (next <= lastDone && !budget.exhausted()) {
      const upTo = Math.min(lastDone, next + SLOTS_PER_STEP - 1);
      const partitions: [number, number][] = [];
      for (let slot = next; slot <= upTo; slot++) for (let shard = 0; shard < OUTBOX_SHARDS; shard++) partitions.push([shard, slot]);
      const entries = (await mapConcurrently(partitions, READ_CONCURRENCY, ([shard, slot]) => outboxSlot(shard, slot))).flat();
      await repair(entries, report);
      report.slots += upTo - next + 1;
      next = upTo + 1;
      await saveCheckpoint(SWEEP_TASK, String(next));
    }
    report.complete = next > lastDone;
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    report.error = error.detail;
  } finally {
    // The oldest moment not yet covered is the start of the next slot to sweep (unknown if the checkpoint could
    // not be read: no figure rather than a wrong one).
    if (next !== undefined) {
      report.lagSeconds = Math.max(0, Math.round((now - next * OUTBOX_SLOT_MS) / 1000));
      countMetric(METRIC.searchSweepLag, report.lagSeconds);
    }
    countMetric(METRIC.searchSweepRepaired, report.repaired);
    if (report.deadLettered > 0) log().warn('search sweep set messages aside', { deadLettered: report.deadLettered });
  }
  return report;
}
