/** Applies queued search-index work once PostgreSQL answers again; stops at the first store failure. */
import { StoreUnavailableError } from '../errors.js';
import { BACKLOG_SHARDS, backlogBatch, removeBacklogEntry } from '../search/backlog.js';
import { applyBacklogEntry } from '../search/indexer.js';
import type { Budget } from './budget.js';

export async function drainSearchBacklog(budget: Budget): Promise<{ applied: number; complete: boolean; error?: string }> {
  let applied = 0;
  for (let shard = 0; shard < BACKLOG_SHARDS; shard++) {
    for (;;) {
      const batch = await backlogBatch(shard, 100);
      if (batch.length === 0) break;
      for (const entry of batch) {
        if (budget.exhausted()) return { applied, complete: false };
        try {
          await applyBacklogEntry(entry.channelId, entry.messageId);
        } catch (error) {
          if (error instanceof StoreUnavailableError) return { applied, complete: false, error: error.detail };
          throw error;
        }
        // Only after the index took it: an interrupted drain repeats the entry, never loses it.
        await removeBacklogEntry(entry);
        applied += 1;
      }
    }
  }
  return { applied, complete: true };
}
