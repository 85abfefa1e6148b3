/**
 * Leases a Snowflake worker id (0–1022; 1023 is Telegram's) to this process through a conditional insert with a TTL in Scylla,
 * so no two live Lambda containers mint with the same worker id. The lease is renewed on use while warm (a
 * frozen container cannot run timers); a container that died simply lets its claim expire. A lease is
 * trusted only until `ttl - margin` after the moment its claim was sent, measured on the local clock, so a
 * container thawed after its claim lapsed takes a fresh one before minting again.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { getConfig } from '../config.js';
import { log } from '../log.js';
import { countMetric, METRIC } from '../observability/metrics.js';
import { conditionalWrite } from '../scylla/execute.js';
import { LEASABLE_WORKER_IDS, SnowflakeGenerator } from './snowflake.js';

const LEASE_TTL_SECONDS = 120;
const RENEW_AFTER_MS = 30_000;
const SAFETY_MARGIN_MS = 20_000;
const MAX_ATTEMPTS = 64;

export class WorkerLease {
  private workerId: number | undefined;
  private claimedAt = 0;
  private pending: Promise<number> | undefined;
  readonly owner = `${getConfig().instanceName}:${process.pid}:${randomUUID()}`;

  /** The leased worker id, claiming or renewing first when needed. */
  async current(): Promise<number> {
    const age = Date.now() - this.claimedAt;
    if (this.workerId !== undefined && age < RENEW_AFTER_MS) return this.workerId;
    this.pending ??= this.refresh().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async refresh(): Promise<number> {
    const sentAt = Date.now();
    if (this.workerId !== undefined && Date.now() - this.claimedAt < LEASE_TTL_SECONDS * 1000 - SAFETY_MARGIN_MS) {
      const renewed = await conditionalWrite(
        `UPDATE snowflake_worker_leases USING TTL ${LEASE_TTL_SECONDS} SET leased_at = ? WHERE worker_id = ? IF owner = ?`,
        [new Date(sentAt), this.workerId, this.owner],
      );
      if (renewed.wasApplied()) {
        this.claimedAt = sentAt;
        return this.workerId;
      }
    }
    if (this.workerId !== undefined) {
      // The claim lapsed (a long freeze, or another owner took the id): ids stay unique, but each reclaim
      // holds a second id until the old row expires, so frequent ones shrink the container ceiling.
      log().warn('worker id lease lost; claiming a new id', { workerId: this.workerId });
      countMetric(METRIC.workerLeaseReclaimed);
    }
    this.workerId = undefined;
    const start = randomInt(0, LEASABLE_WORKER_IDS);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const candidate = (start + attempt * 97) % LEASABLE_WORKER_IDS;
      const claimSentAt = Date.now();
      const claimed = await conditionalWrite(
        `INSERT INTO snowflake_worker_leases (worker_id, owner, leased_at) VALUES (?, ?, ?) IF NOT EXISTS USING TTL ${LEASE_TTL_SECONDS}`,
        [candidate, this.owner, new Date(claimSentAt)],
      );
      if (claimed.wasApplied()) {
        this.workerId = candidate;
        this.claimedAt = claimSentAt;
        return candidate;
      }
    }
    throw new Error(`No free Snowflake worker id after ${MAX_ATTEMPTS} attempts`);
  }

  /** Gives the id back early (graceful shutdown); expiry covers every other way a container ends. */
  async release(): Promise<void> {
    if (this.workerId === undefined) return;
    await conditionalWrite('DELETE FROM snowflake_worker_leases WHERE worker_id = ? IF owner = ?', [this.workerId, this.owner]);
    this.workerId = undefined;
  }
}

let generator: SnowflakeGenerator | undefined;

/** The process-wide id generator, backed by a leased worker id. */
export async function nextMessageId(): Promise<bigint> {
  if (!generator) {
    const lease = new WorkerLease();
    generator = new SnowflakeGenerator(() => lease.current());
  }
  return generator.next();
}
