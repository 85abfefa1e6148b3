/** Repairs reaction counters that drifted from their rows, for every message with recent reaction activity. */
import { activeMessages, activityDay, adjustCounter, countReactionRows, reactionCounts } from '../../reactions/store.js';
import { recordCounterRepair } from '../reactions.js';
import type { Budget } from './budget.js';
import { stableMismatch } from './drift.js';
import { repairRecentlyActive, type RepairReport } from './recent-activity.js';

function sameCounts(a: Map<string, number>, b: Map<string, number>): boolean {
  const emojis = new Set([...a.keys(), ...b.keys()]);
  return [...emojis].every((emoji) => (a.get(emoji) ?? 0) === (b.get(emoji) ?? 0));
}

export function repairReactionDrift(budget: Budget, settleMs: number): Promise<RepairReport> {
  return repairRecentlyActive('reactions:day', activityDay(), activeMessages, budget, async (channelId, messageId) => {
    const drift = await stableMismatch(
      async () => {
        const recorded = await reactionCounts(channelId, messageId);
        const truth = await countReactionRows(channelId, messageId);
        return { truth, recorded };
      },
      sameCounts,
      settleMs,
    );
    if (!drift) return false;
    for (const emoji of new Set([...drift.truth.keys(), ...drift.recorded.keys()])) {
      const delta = (drift.truth.get(emoji) ?? 0) - (drift.recorded.get(emoji) ?? 0);
      if (delta === 0) continue;
      await adjustCounter(channelId, messageId, emoji, delta);
      // Clients show the count: the corrected one goes to the changes feed.
      await recordCounterRepair(channelId, messageId, emoji, delta);
    }
    return true;
  });
}
