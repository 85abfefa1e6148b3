/**
 * The old search-index backlog (search_index_backlog): before the search outbox, a write PostgreSQL could not
 * take was queued there. Nothing queues there any more; this drains what a deployment still holds, with the
 * same versioned application as the indexer. Applies queued work once PostgreSQL answers again; stops at the first store failure. An entry
 * that fails for any other reason (PostgreSQL refused the data: it can never succeed) is set aside in the dead
 * letters with its error and counted (SearchBacklogDeadLettered), and the drain goes on with the entries
 * behind it instead of stopping its shard on it every run.
 */
import { StoreUnavailableError } from '../../errors.js';
import { log } from '../../log.js';
import { countMetric, METRIC } from '../../observability/metrics.js';
import { BACKLOG_SHARDS, backlogBatch, removeBacklogEntry, setAsideBacklogEntry } from '../../search/backlog.js';
import { applyMessageSearchState } from '../search-indexing.js';
import type { Budget } from './budget.js';

export interface DrainReport {
  applied: number;
  /** Entries set aside in the dead letters this run. */
  deadLettered: number;
  complete: boolean;
  error?: string;
}

export async function drainSearchBacklog(budget: Budget): Promise<DrainReport> {
  let applied = 0;
  let deadLettered = 0;
  for (let shard = 0; shard < BACKLOG_SHARDS; shard++) {
    for (;;) {
      const batch = await backlogBatch(shard, 100);
      if (batch.length === 0) break;
      for (const entry of batch) {
        if (budget.exhausted()) return { applied, deadLettered, complete: false };
        try {
          // From the current state of the message (the entry may be stale: a later edit or delete wins because
          // the message row is read now, and the index keeps the newest version it was given).
          await applyMessageSearchState(entry.channelId, entry.messageId);
        } catch (error) {
          if (error instanceof StoreUnavailableError) return { applied, deadLettered, complete: false, error: error.detail };
          log().error('search backlog entry can never be applied; set aside in the dead letters', {
            channelId: entry.channelId,
            messageId: entry.messageId.toString(),
            operation: entry.operation,
            error: error as Error,
          });
          await setAsideBacklogEntry(entry, (error as Error).message);
          countMetric(METRIC.searchBacklogDeadLettered);
          deadLettered += 1;
          continue;
        }
        // Only after the index took it: an interrupted drain repeats the entry, never loses it.
        await removeBacklogEntry(entry);
        applied += 1;
      }
    }
  }
  return { applied, deadLettered, complete: true };
}
