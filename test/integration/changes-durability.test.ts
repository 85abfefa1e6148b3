/**
 * A change whose feed write fails after its state change happened (Scylla failing between two statements) is
 * parked in PostgreSQL's outbox, and the reconciler's relay writes it to the feed: not lost, not doubled.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { changeDay, EVERYONE } from '../../lib/changes/model.js';
import { changesInPartition } from '../../lib/changes/store.js';
import { loadConfig } from '../../lib/config.js';
import { firstSnowflakeAt } from '../../lib/ids/snowflake.js';
import { nextMessageId } from '../../lib/ids/worker-lease.js';
import { pgQuery } from '../../lib/postgres/pool.js';
import { closeScylla } from '../../lib/scylla/client.js';
import { recordChange, relayOutbox } from '../../lib/use-cases/changes.js';

/** Runs `work` with the Scylla driver pointed at a port nobody listens on: every statement fails fast. */
async function withScyllaDown<T>(work: () => Promise<T>): Promise<T> {
  const saved = process.env.SCYLLA_PORT;
  process.env.SCYLLA_PORT = '1';
  loadConfig();
  await closeScylla();
  try {
    return await work();
  } finally {
    if (saved === undefined) delete process.env.SCYLLA_PORT;
    else process.env.SCYLLA_PORT = saved;
    loadConfig();
    await closeScylla();
  }
}

describe('changes that cannot reach the feed', () => {
  it('are parked in the outbox and relayed once, a reaction with its count read at relay time', async () => {
    const channelId = randomUUID();
    const messageId = '123456789012345678';
    // The worker lease is taken while Scylla answers (a container that minted before the failure).
    await nextMessageId();
    const since = firstSnowflakeAt(Date.now() - 1000);
    const parked = await withScyllaDown(async () => {
      const pin = await recordChange({ channelId, type: 'pin.added', audience: EVERYONE, body: { message_id: messageId } });
      const reaction = await recordChange(
        { channelId, type: 'reaction.added', audience: EVERYONE, body: { message_id: messageId, user_id: randomUUID(), emoji: '👍' } },
        () => Promise.reject(new Error('count read failed')),
      );
      return [pin, reaction];
    });
    const rows = await pgQuery<{ type: string; body: Record<string, unknown> }>('SELECT type, body FROM change_outbox WHERE channel_id = $1 ORDER BY id', [channelId]);
    expect(rows.rows.map((row) => row.type)).toEqual(['pin.added', 'reaction.added']);
    expect(rows.rows[1]!.body.count).toBeUndefined();
    // Past the grace the request had, the relay writes them (fresh ids) and clears the outbox.
    await pgQuery("UPDATE change_outbox SET created_at = now() - interval '5 minutes' WHERE channel_id = $1", [channelId]);
    const report = await relayOutbox(1000, () => false);
    expect(report.relayed).toBeGreaterThanOrEqual(2);
    expect((await pgQuery('SELECT 1 FROM change_outbox WHERE channel_id = $1', [channelId])).rowCount).toBe(0);
    const upTo = firstSnowflakeAt(Date.now() + 1000);
    const feed = await changesInPartition(channelId, changeDay(upTo), EVERYONE, since, upTo, 10);
    expect(feed.map((change) => [change.type, change.body])).toEqual([
      ['pin.added', { message_id: messageId }],
      ['reaction.added', { ...parked[1]!.body, count: 0 }],
    ]);
    expect(feed.map((change) => change.id)).not.toContain(parked[0]!.id);
    // A second relay finds nothing to do.
    await relayOutbox(1000, () => false);
    expect(await changesInPartition(channelId, changeDay(upTo), EVERYONE, since, upTo, 10)).toHaveLength(2);
  });
});
