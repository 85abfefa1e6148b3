/** One reconciler run: the run lock, then each task in turn within the time budget. */
import { getConfig } from '../config.js';
import { log } from '../log.js';
import { Budget } from './budget.js';
import { repairReactionDrift } from './reactions.js';
import { drainSearchBacklog } from './search-backlog.js';
import { acquireRunLock, releaseRunLock } from './state.js';
import { reconcileLinkedChannels, recordWebhookHealth, type ChannelReport } from './telegram.js';

export interface ReconcileReport {
  ran: boolean;
  webhook?: { pending: number; lastError: string | null } | { error: string };
  channels?: ChannelReport[];
  channelsComplete?: boolean;
  searchBacklog?: { applied: number; complete: boolean; error?: string };
  reactions?: { checked: number; repaired: number; complete: boolean };
}

export async function runReconciler(remainingMs: number, lockSeconds: number): Promise<ReconcileReport> {
  const config = getConfig();
  const budget = Budget.fromRemaining(remainingMs);
  const owner = await acquireRunLock(lockSeconds);
  if (!owner) {
    log().info('another reconciler run holds the lock; exiting');
    return { ran: false };
  }
  const report: ReconcileReport = { ran: true };
  try {
    try {
      report.webhook = await recordWebhookHealth(config.telegram);
    } catch (error) {
      // Telegram being unreachable must not stop the store-side repairs.
      report.webhook = { error: (error as Error).message };
    }
    const channels = await reconcileLinkedChannels(config.telegram, budget, config.reconcilerSettleMs);
    report.channels = channels.reports;
    report.channelsComplete = channels.complete;
    report.searchBacklog = await drainSearchBacklog(budget);
    report.reactions = await repairReactionDrift(budget, config.reconcilerSettleMs);
    return report;
  } finally {
    await releaseRunLock(owner);
    log().info('reconciler run finished', { report });
  }
}
