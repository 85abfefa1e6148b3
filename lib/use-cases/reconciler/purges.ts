/**
 * The sweep of deleted channels whose purge has not finished: a local purge lost to a failure or a restart,
 * an SQS message that died in the dead-letter queue (swept again once the cause is fixed). A chat row marked
 * deleted exists until its purge's last step, so those rows are the work list. A purge is left alone while
 * it may still be running or waiting: deleted less than STALE_MS ago plus the purge delay, or with a
 * checkpoint written in the last STALE_MS (a purge writes one after every page and step). In AWS the sweep
 * re-enqueues the purge; locally it runs it here, within the reconciler's time budget.
 */
import { readPurgeCheckpoint, unfinishedPurgesPage } from '../../channels/purge-store.js';
import { getConfig } from '../../config.js';
import { log } from '../../log.js';
import { resumePurge } from '../channel-purge.js';
import type { Budget } from './budget.js';

/** Longer than a purge Lambda's run (300 s) and its queue's redelivery, so a live purge is never doubled. */
export const STALE_MS = 10 * 60_000;
const PAGE = 100;

export interface PurgeSweepReport {
  requested: number;
  purged: number;
  complete: boolean;
}

export async function sweepUnfinishedPurges(budget: Budget, now = Date.now()): Promise<PurgeSweepReport> {
  const report: PurgeSweepReport = { requested: 0, purged: 0, complete: false };
  const config = getConfig();
  // With a queue, other invocations may be purging: wait STALE_MS more. Locally, `resumePurge` knows what
  // this process is running, and a purge of a restarted process is simply gone.
  const queued = Boolean(config.purgeQueueUrl);
  const deletedBefore = new Date(now - config.purgeDelaySeconds * 1000 - (queued ? STALE_MS : 0));
  let after: string | null = null;
  for (;;) {
    const page = await unfinishedPurgesPage(after, deletedBefore, PAGE);
    for (const channelId of page) {
      if (budget.exhausted()) return report;
      after = channelId;
      const checkpoint = await readPurgeCheckpoint(channelId);
      if (queued && checkpoint?.updatedAt && checkpoint.updatedAt.getTime() > now - STALE_MS) continue;
      log().warn('channel purge: stalled, requested again', { channelId, checkpoint: checkpoint ?? null });
      const outcome = await resumePurge(channelId, () => budget.exhausted());
      if (outcome === 'requested') report.requested += 1;
      if (outcome === 'purged') report.purged += 1;
      if (outcome === 'paused') return report;
    }
    if (page.length < PAGE) {
      report.complete = true;
      return report;
    }
  }
}
