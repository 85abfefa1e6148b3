/** Applies queued search-index work once PostgreSQL answers again; stops at the first store failure. */
import { StoreUnavailableError } from '../../errors.js';
import { getMessageRecord } from '../../messages/store.js';
import { BACKLOG_SHARDS, backlogBatch, removeBacklogEntry } from '../../search/backlog.js';
import { indexMessage, unindexMessage } from '../../search/index-store.js';
import type { Budget } from './budget.js';

/**
 * Applies one backlog entry from the current state of the message (the entry may be stale: a later edit or
 * delete wins because the message row is read now).
 */
async function applyBacklogEntry(channelId: string, messageId: bigint): Promise<void> {
  const message = await getMessageRecord(channelId, messageId);
  if (message && !message.deleted) await indexMessage(message);
  else await unindexMessage(channelId, messageId);
}

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
