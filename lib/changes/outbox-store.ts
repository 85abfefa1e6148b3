/**
 * change_outbox (PostgreSQL): changes of state PostgreSQL holds, written in the same transaction as that state
 * (see cql/postgres/0005_change_outbox.sql), until they are in channel_changes.
 */
import { pgQuery, type PgQuery } from '../postgres/pool.js';
import type { ChangeRecord, ChangeType } from './model.js';

export interface OutboxEntry {
  outboxId: string;
  change: ChangeRecord;
}

/** Adds the change inside the caller's transaction; its outbox id. */
export async function enqueueOutbox(query: PgQuery, change: ChangeRecord): Promise<string> {
  const { rows } = await query<{ id: string }>(
    'INSERT INTO change_outbox (channel_id, change_id, audience, type, body) VALUES ($1, $2, $3, $4, $5) RETURNING id',
    [change.channelId, change.id.toString(), change.audience, change.type, JSON.stringify(change.body)],
  );
  return rows[0]!.id;
}

/** Points the entry at another id (one never written), so the relay writes it rather than trusting a late row. */
export async function repointOutbox(outboxId: string, changeId: bigint): Promise<void> {
  await pgQuery('UPDATE change_outbox SET change_id = $2 WHERE id = $1', [outboxId, changeId.toString()]);
}

export async function deleteOutbox(outboxId: string): Promise<void> {
  await pgQuery('DELETE FROM change_outbox WHERE id = $1', [outboxId]);
}

/** Entries older than `olderThanMs` (their request had its chance), oldest first. */
export async function staleOutbox(olderThanMs: number, limit: number): Promise<OutboxEntry[]> {
  const { rows } = await pgQuery<{ id: string; channel_id: string; change_id: string; audience: string; type: ChangeType; body: Record<string, unknown> }>(
    `SELECT id, channel_id, change_id, audience, type, body FROM change_outbox
      WHERE created_at < now() - make_interval(secs => $1::double precision / 1000)
      ORDER BY id LIMIT $2`,
    [olderThanMs, limit],
  );
  return rows.map((row) => ({
    outboxId: row.id,
    change: { id: BigInt(row.change_id), channelId: row.channel_id, audience: row.audience, type: row.type, body: row.body },
  }));
}
