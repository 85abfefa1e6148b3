/**
 * Repairs reply counters that drifted from the thread index (a crash between a reply's index row and its
 * counter), for every parent whose thread changed today or yesterday: the reaction counters' pattern.
 */
import { activityDay, adjustReplyCount, countReplyRows, repliedParents, replyCountOf } from '../../messages/replies.js';
import { EVERYONE } from '../../changes/model.js';
import { toMessageView } from '../../messages/model.js';
import { getMessageRecord } from '../../messages/store.js';
import { recordChange } from '../changes.js';
import type { Budget } from './budget.js';
import { stableMismatch } from './drift.js';
import { repairRecentlyActive, type RepairReport } from './recent-activity.js';

export function repairReplyCountDrift(budget: Budget, settleMs: number): Promise<RepairReport> {
  return repairRecentlyActive('replies:day', activityDay(), repliedParents, budget, async (channelId, messageId) => {
    const drift = await stableMismatch(
      async () => {
        const [recorded, truth] = await Promise.all([replyCountOf(channelId, messageId), countReplyRows(channelId, messageId)]);
        return { truth, recorded };
      },
      (a, b) => a === b,
      settleMs,
    );
    if (!drift) return false;
    await adjustReplyCount(channelId, messageId, drift.truth - drift.recorded);
    // Clients show the count in the message: the parent, with the corrected count, goes to the changes feed.
    const parent = await getMessageRecord(channelId, messageId);
    if (parent && !parent.deleted) {
      await recordChange({ channelId, type: 'message.updated', audience: EVERYONE, body: { message: toMessageView(parent, drift.truth) } });
    }
    return true;
  });
}
