/**
 * Repairs reply counters that drifted from the thread index (a crash between a reply's index row and its
 * counter), for every parent whose thread changed today or yesterday: the reaction counters' pattern.
 */
import { activityDay, adjustReplyCount, countReplyRows, repliedParents, replyCountOf } from '../../messages/replies.js';
import { loadCheckpoint, saveCheckpoint } from '../../reconciler/store.js';
import type { Budget } from './budget.js';
import { stableMismatch } from './drift.js';

const CHECKPOINT = 'replies:day';

export async function repairReplyCountDrift(budget: Budget, settleMs: number): Promise<{ checked: number; repaired: number; complete: boolean }> {
  let checked = 0;
  let repaired = 0;
  const today = activityDay();
  const resumeDay = Number((await loadCheckpoint(CHECKPOINT)) ?? today - 1);
  for (let day = Math.max(resumeDay, today - 1); day <= today; day++) {
    for await (const { channelId, messageId } of repliedParents(day)) {
      if (budget.exhausted()) {
        await saveCheckpoint(CHECKPOINT, String(day));
        return { checked, repaired, complete: false };
      }
      checked += 1;
      const drift = await stableMismatch(
        async () => {
          const [recorded, truth] = await Promise.all([replyCountOf(channelId, messageId), countReplyRows(channelId, messageId)]);
          return { truth, recorded };
        },
        (a, b) => a === b,
        settleMs,
      );
      if (!drift) continue;
      await adjustReplyCount(channelId, messageId, drift.truth - drift.recorded);
      repaired += 1;
    }
  }
  await saveCheckpoint(CHECKPOINT, null);
  return { checked, repaired, complete: true };
}
