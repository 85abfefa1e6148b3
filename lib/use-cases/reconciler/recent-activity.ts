/**
 * The walk both counter repairs share: every message with activity yesterday (final) then today, resuming
 * at the day a run stopped on, within the time budget.
 */
import { loadCheckpoint, saveCheckpoint } from '../../reconciler/store.js';
import type { Budget } from './budget.js';

export interface RepairReport {
  checked: number;
  repaired: number;
  complete: boolean;
}

export async function repairRecentlyActive(
  checkpoint: string,
  today: number,
  activeOn: (day: number) => AsyncIterable<{ channelId: string; messageId: bigint }>,
  budget: Budget,
  repairOne: (channelId: string, messageId: bigint) => Promise<boolean>,
): Promise<RepairReport> {
  let checked = 0;
  let repaired = 0;
  const resumeDay = Number((await loadCheckpoint(checkpoint)) ?? today - 1);
  for (let day = Math.max(resumeDay, today - 1); day <= today; day++) {
    for await (const { channelId, messageId } of activeOn(day)) {
      if (budget.exhausted()) {
        await saveCheckpoint(checkpoint, String(day));
        return { checked, repaired, complete: false };
      }
      checked += 1;
      if (await repairOne(channelId, messageId)) repaired += 1;
    }
  }
  await saveCheckpoint(checkpoint, null);
  return { checked, repaired, complete: true };
}
