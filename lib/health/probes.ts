/** One trivial request per store, for readiness: each resolves when its store answered and throws otherwise. */
import { pgQuery } from '../postgres/pool.js';
import { getRedis } from '../redis/client.js';
import { getScylla } from '../scylla/client.js';

export async function probeScylla(): Promise<void> {
  await (await getScylla()).execute('SELECT release_version FROM system.local', [], { prepare: true, isIdempotent: true });
}

export async function probePostgres(): Promise<void> {
  await pgQuery('SELECT 1');
}

export async function probeRedis(): Promise<void> {
  const answer = await (await getRedis()).ping();
  if (answer !== 'PONG') throw new Error(`unexpected PING answer ${String(answer)}`);
}
