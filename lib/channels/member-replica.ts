/**
 * channel_members in Scylla: a replica of PostgreSQL's participants, kept so the member check can answer
 * while PostgreSQL is unreachable. PostgreSQL stays the authority; the replica is written after it.
 */
import { read, write } from '../scylla/execute.js';
import type { ChatAccess } from './chat-store.js';
import { getChannelMetadata } from './metadata-store.js';

export async function replicateMember(channelId: string, userId: string, role: 'owner' | 'member'): Promise<void> {
  await write('INSERT INTO channel_members (channel_id, user_id, role) VALUES (?, ?, ?)', [channelId, userId, role]);
}

export async function forgetReplicatedMember(channelId: string, userId: string): Promise<void> {
  await write('DELETE FROM channel_members WHERE channel_id = ? AND user_id = ?', [channelId, userId]);
}

export async function replicatedAccess(channelId: string, userId: string): Promise<ChatAccess | undefined> {
  const [channel, member] = await Promise.all([
    getChannelMetadata(channelId),
    read('SELECT role FROM channel_members WHERE channel_id = ? AND user_id = ?', [channelId, userId]),
  ]);
  if (!channel) return undefined;
  const role = member.first()?.get('role') as 'owner' | 'member' | undefined;
  return { ownerId: channel.ownerId, role: role ?? null };
}

/** Every replicated member of the channel (one partition read), for the purge. */
export async function replicatedMemberIds(channelId: string): Promise<string[]> {
  const result = await read('SELECT user_id FROM channel_members WHERE channel_id = ?', [channelId], { fetchSize: 0 });
  return result.rows.map((row) => String(row.get('user_id')));
}

/** The whole replica of the channel: one partition tombstone. */
export async function forgetReplicatedMembers(channelId: string): Promise<void> {
  await write('DELETE FROM channel_members WHERE channel_id = ?', [channelId]);
}
