/** Presence: a user sets their own; anyone authenticated reads anyone's (absent reads as offline). */
import type { Principal } from '../auth/principal.js';
import { presenceOf, savePresence, type PresenceStatus } from '../ephemeral/presence-store.js';

export type { PresenceStatus } from '../ephemeral/presence-store.js';

export async function setPresence(principal: Principal, status: PresenceStatus): Promise<void> {
  await savePresence(principal.userId, status);
}

export async function getPresence(userIds: string[]): Promise<Record<string, PresenceStatus>> {
  return presenceOf(userIds);
}
