/**
 * One reconciler run: the run lock, then each task in turn within the time budget. A task that throws is
 * recorded and counted (`ReconcilerFailed`) and the run goes on to the next one: one broken task must not
 * starve the others of their runs, which is what a single try around them all did.
 */
import { getConfig } from '../../config.js';
import { log } from '../../log.js';
import { countMetric, METRIC } from '../../observability/metrics.js';
import { acquireRunLock, releaseRunLock } from '../../reconciler/store.js';
import { backlogSize } from '../../search/backlog.js';
import { relayOutbox } from '../changes.js';
import { Budget } from './budget.js';
import { repairReactionDrift } from './reactions.js';
import { sweepUnfinishedPurges, type PurgeSweepReport } from './purges.js';
import { repairReplyCountDrift } from './replies.js';
import { drainSearchBacklog } from './search-backlog.js';
import { sweepSearchOutbox, type SweepReport } from './search-sweep.js';
import { reconcileLinkedChannels, recordWebhookHealth, type ChannelReport } from './telegram.js';

export interface ReconcileReport {
  ran: boolean;
  webhook?: { pending: number; lastError: string | null } | { error: string };
  channels?: ChannelReport[];
  channelsComplete?: boolean;
  searchBacklog?: { applied: number; deadLettered: number; complete: boolean; error?: string; waiting?: number };
  searchSweep?: SweepReport;
  reactions?: { checked: number; repaired: number; complete: boolean };
  replies?: { checked: number; repaired: number; complete: boolean };
  purges?: PurgeSweepReport;
  changeOutbox?: { relayed: number; alreadyRecorded: number };
  /** Tasks that threw, with their error messages. */
  failures?: { task: string; error: string }[];
}

/** Outbox entries relayed per run: they only exist after a crash or an outage, so a run clears them. */
const OUTBOX_BATCH = 1000;

export async function runReconciler(remainingMs: number, lockSeconds: number): Promise<ReconcileReport> {
  const config = getConfig();
  const budget = Budget.fromRemaining(remainingMs);
  const owner = await acquireRunLock(lockSeconds);
  if (!owner) {
    log().info('another reconciler run holds the lock; exiting');
    return { ran: false };
  }
  const report: ReconcileReport = { ran: true, failures: [] };
  const task = async (name: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      log().error('reconciler task failed', { task: name, error: error as Error });
      report.failures!.push({ task: name, error: (error as Error).message });
      countMetric(METRIC.reconcilerFailed);
    }
  };
  try {
    try {
      report.webhook = await recordWebhookHealth(config.telegram);
    } catch (error) {
      // Telegram being unreachable is reported, not a failure of the store-side repairs.
      report.webhook = { error: (error as Error).message };
    }
    await task('telegram', async () => {
      const channels = await reconcileLinkedChannels(config.telegram, budget, config.reconcilerSettleMs);
      report.channels = channels.reports;
      report.channelsComplete = channels.complete;
    });
    await task('search-sweep', async () => {
      report.searchSweep = await sweepSearchOutbox(budget);
    });
    await task('search-backlog', async () => {
      report.searchBacklog = await drainSearchBacklog(budget);
      countMetric(METRIC.searchBacklogApplied, report.searchBacklog.applied);
      const waiting = await backlogSize();
      report.searchBacklog.waiting = waiting;
      countMetric(METRIC.searchBacklogDepth, waiting);
    });
    await task('reactions', async () => {
      report.reactions = await repairReactionDrift(budget, config.reconcilerSettleMs);
    });
    await task('replies', async () => {
      report.replies = await repairReplyCountDrift(budget, config.reconcilerSettleMs);
    });
    await task('change-outbox', async () => {
      report.changeOutbox = await relayOutbox(OUTBOX_BATCH, () => budget.exhausted());
    });
    await task('purges', async () => {
      report.purges = await sweepUnfinishedPurges(budget);
    });
    return report;
  } finally {
    await releaseRunLock(owner);
    log().info('reconciler run finished', { report });
  }
}
