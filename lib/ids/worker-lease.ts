/**
 * Leases a Snowflake worker id (0–1022; 1023 is Telegram's) to this process through a conditional insert with
 * a TTL in Scylla, so no two live Lambda containers mint with the same worker id.
 *
 * A claim is trusted only until `ttl - margin` after the moment it was sent, measured on the local clock (the
 * row cannot expire earlier, since its TTL starts when the node applies it), so a container thawed after its
 * claim lapsed claims again before minting. While warm, the claim is renewed in the background once a quarter
 * of the TTL has passed: an id is never minted behind a renewal round trip, only behind a first claim or one
 * after a long freeze. A renewal rewrites every cell of the claim (owner and leased_at) under the new TTL: a
 * row whose `owner` cell kept the first TTL would lose it, fail the next `IF owner = ?` and make the container
 * take a second id while the old row, kept alive by its renewed `leased_at`, blocked the first.
 *
 * Ceiling: 1,023 ids for every live container of the stack that mints (every function that writes a message or
 * records a change; reads never claim). Past it a claim finds no free id, the request answers 503
 * `worker_ids_exhausted` and WorkerIdsExhausted is counted; no id is ever minted without a claim, so ids never
 * repeat. A container that dies without releasing frees its id when the TTL runs out.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { getConfig } from '../config.js';
import { AppError } from '../errors.js';
import { log } from '../log.js';
import { countMetric, METRIC } from '../observability/metrics.js';
import { conditionalWrite, readPages } from '../scylla/execute.js';
import { LEASABLE_WORKER_IDS, SnowflakeGenerator } from './snowflake.js';

const MAX_ATTEMPTS = 64;

/** No worker id is free: more live minting containers than ids. Retriable: containers end and free theirs. */
export class WorkerIdsExhaustedError extends AppError {
  constructor() {
    super(503, 'worker_ids_exhausted', 'No message id can be issued right now; retry shortly', { 'Retry-After': '5' });
  }
}

export interface WorkerLeaseOptions {
  /** How long a claim lives without renewal; SNOWFLAKE_LEASE_TTL_SECONDS by default. */
  ttlSeconds?: number;
}

export class WorkerLease {
  private workerId: number | undefined;
  /** When the claim or renewal that the id now rests on was sent (local clock). */
  private claimedAt = 0;
  private claiming: Promise<number> | undefined;
  private renewing: Promise<void> | undefined;
  private readonly ttlSeconds: number;
  private readonly renewAfterMs: number;
  private readonly trustedForMs: number;
  readonly owner = `${getConfig().instanceName}:${process.pid}:${randomUUID()}`;

  constructor(options: WorkerLeaseOptions = {}) {
    this.ttlSeconds = options.ttlSeconds ?? getConfig().workerLeaseTtlSeconds;
    const ttlMs = this.ttlSeconds * 1000;
    this.renewAfterMs = ttlMs / 4;
    // 120 s → trusted for 100 s: three renewal chances before the id must be given up.
    this.trustedForMs = ttlMs - ttlMs / 6;
  }

  /** The leased worker id: at once while the claim is trusted (renewing it in the background when due). */
  async current(): Promise<number> {
    const age = Date.now() - this.claimedAt;
    if (this.workerId !== undefined && age < this.trustedForMs) {
      if (age >= this.renewAfterMs) this.renewInBackground(this.workerId);
      return this.workerId;
    }
    this.claiming ??= this.claim().finally(() => {
      this.claiming = undefined;
    });
    return this.claiming;
  }

  /** One renewal at a time; its failure is logged, and the next use past `renewAfterMs` tries again. */
  private renewInBackground(workerId: number): void {
    this.renewing ??= this.renew(workerId)
      .catch((error: unknown) => {
        log().warn('worker id lease renewal failed; retried on next use', { workerId, error: error as Error });
      })
      .finally(() => {
        this.renewing = undefined;
      });
  }

  private async renew(workerId: number): Promise<void> {
    const sentAt = Date.now();
    const renewed = await conditionalWrite(
      'UPDATE snowflake_worker_leases USING TTL ? SET owner = ?, leased_at = ? WHERE worker_id = ? IF owner = ?',
      [this.ttlSeconds, this.owner, new Date(sentAt), workerId, this.owner],
    );
    if (this.workerId !== workerId) return;
    if (renewed.wasApplied()) {
      this.claimedAt = Math.max(this.claimedAt, sentAt);
      return;
    }
    // The row expired and another container holds the id now (only after a freeze longer than the trust
    // window, during which this container minted nothing): claim a fresh one on next use.
    log().warn('worker id lease lost; claiming a new id on next use', { workerId });
    countMetric(METRIC.workerLeaseReclaimed);
    this.workerId = undefined;
    this.claimedAt = 0;
  }

  private async claim(): Promise<number> {
    if (this.workerId !== undefined) {
      // Past the trust window (a long freeze): the id may be someone else's by now.
      log().warn('worker id lease past its trust window; claiming a new id', { workerId: this.workerId });
      countMetric(METRIC.workerLeaseReclaimed);
      this.workerId = undefined;
    }
    const start = randomInt(0, LEASABLE_WORKER_IDS);
    const probed = new Set<number>();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const candidate = (start + attempt * 97) % LEASABLE_WORKER_IDS;
      probed.add(candidate);
      if (await this.tryClaim(candidate)) return candidate;
    }
    // The random probes found none free: near the ceiling they can miss the few ids still free, so ask the
    // table which ones are held (a scan of at most 1,023 tiny rows, only on this rare path) and try the rest.
    const held = new Set<number>();
    for await (const rows of readPages('SELECT worker_id FROM snowflake_worker_leases', [], 1000)) {
      for (const row of rows) held.add(row.get('worker_id') as number);
    }
    for (let candidate = 0; candidate < LEASABLE_WORKER_IDS; candidate++) {
      if (held.has(candidate) || probed.has(candidate)) continue;
      if (await this.tryClaim(candidate)) return candidate;
    }
    log().error('no free Snowflake worker id', { held: held.size });
    countMetric(METRIC.workerIdsExhausted);
    throw new WorkerIdsExhaustedError();
  }

  private async tryClaim(candidate: number): Promise<boolean> {
    const sentAt = Date.now();
    const claimed = await conditionalWrite(
      'INSERT INTO snowflake_worker_leases (worker_id, owner, leased_at) VALUES (?, ?, ?) IF NOT EXISTS USING TTL ?',
      [candidate, this.owner, new Date(sentAt), this.ttlSeconds],
    );
    if (!claimed.wasApplied()) return false;
    this.workerId = candidate;
    this.claimedAt = sentAt;
    return true;
  }

  /** Waits for a renewal in flight (tests, shutdown). */
  async settled(): Promise<void> {
    await this.renewing;
  }

  /** Gives the id back early (graceful shutdown); expiry covers every other way a container ends. */
  async release(): Promise<void> {
    await this.renewing;
    if (this.workerId === undefined) return;
    await conditionalWrite('DELETE FROM snowflake_worker_leases WHERE worker_id = ? IF owner = ?', [this.workerId, this.owner]);
    this.workerId = undefined;
  }
}

let generator: SnowflakeGenerator | undefined;

/** The process-wide id generator, backed by a leased worker id claimed on first use. */
export async function nextMessageId(): Promise<bigint> {
  if (!generator) {
    const lease = new WorkerLease();
    generator = new SnowflakeGenerator(() => lease.current());
  }
  return generator.next();
}
