/** Repairs reaction counters that drifted from their rows, for every message with recent reaction activity. */
import { activeMessages, activityDay, adjustCounter, countReactionRows, reactionCounts } from '../../reactions/store.js';
import { loadCheckpoint, saveCheckpoint } from '../../reconciler/store.js';
import type { Budget } from './budget.js';
import { stableMismatch } from './drift.js';

const CHECKPOINT = 'reactions:day';

function sameCounts(a: Map<string, number>, b: Map<string, number>): boolean {
  const emojis = new Set([...a.keys(), ...b.keys()]);
  return [...emojis].every((emoji) => (a.get(emoji) ?? 0) === (b.get(emoji) ?? 0));
}

export async function repairReactionDrift(budget: Budget, settleMs: number): Promise<{ checked: number; repaired: number; complete: boolean }> {
  let checked = 0;
  let repaired = 0;
  const today = activityDay();
  // Yesterday first (its activity is final), then today; a run that stops early resumes at its day.
  const resumeDay = Number((await loadCheckpoint(CHECKPOINT)) ?? today - 1);
  for (let day = Math.max(resumeDay, today - 1); day <= today; day++) {
    for await (const { channelId, messageId } of activeMessages(day)) {
      if (budget.exhausted()) {
        await saveCheckpoint(CHECKPOINT, String(day));
        return { checked, repaired, complete: false };
      }
      checked += 1;
      const drift = await stableMismatch(
        async () => {
          const recorded = await reactionCounts(channelId, messageId);
          const truth = await countReactionRows(channelId, messageId);
          return { truth, recorded };
        },
        sameCounts,
        settleMs,
      );
      if (!drift) continue;
      for (const emoji of new Set([...drift.truth.keys(), ...drift.recorded.keys()])) {
        const delta = (drift.truth.get(emoji) ?? 0) - (drift.recorded.get(emoji) ?? 0);
        if (delta !== 0) await adjustCounter(channelId, messageId, emoji, delta);
      }
      repaired += 1;
    }
  }
  await saveCheckpoint(CHECKPOINT, null);
  return { checked, repaired, complete: true };
}
