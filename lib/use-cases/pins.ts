/**
 * Pins: at most MAX_PINS per channel, listed newest pin first. Pins of messages deleted since are skipped and
 * cleaned up on read.
 */
import type { Principal } from '../auth/principal.js';
import { authorizeChannel } from '../channels/access.js';
import { EVERYONE } from '../changes/model.js';
import { ConflictError } from '../errors.js';
import { requireLiveMessage } from '../messages/live.js';
import type { MessageRecord, MessageView } from '../messages/model.js';
import { getMessageRecord } from '../messages/store.js';
import { deletePin, insertPin, readPins, removePin } from '../pins/store.js';
import { recordChange } from './changes.js';
import { viewsOf } from './messages.js';

export const MAX_PINS = 250;
/** Pin rows read at once: a little above the cap, since pins racing each other can overshoot it. */
const PINS_READ = MAX_PINS + 50;

export async function pinMessage(principal: Principal, channelId: string, messageId: bigint): Promise<void> {
  await authorizeChannel(principal, channelId);
  await requireLiveMessage(channelId, messageId);
  const existing = await readPins(channelId, PINS_READ);
  if (existing.some((pin) => pin.messageId === messageId)) return;
  if (existing.length >= MAX_PINS) throw new ConflictError(`A channel holds at most ${MAX_PINS} pins; unpin one first`);
  // The conditional insert decides whether this is a change (a racing repeat is not); the change follows it.
  if (await insertPin(channelId, messageId, principal.userId)) {
    await recordChange({ channelId, type: 'pin.added', audience: EVERYONE, body: { message_id: messageId.toString() } });
  }
}

export async function unpinMessage(principal: Principal, channelId: string, messageId: bigint): Promise<void> {
  await authorizeChannel(principal, channelId);
  if (await removePin(channelId, messageId)) {
    await recordChange({ channelId, type: 'pin.removed', audience: EVERYONE, body: { message_id: messageId.toString() } });
  }
}

export async function listPins(principal: Principal, channelId: string): Promise<MessageView[]> {
  await authorizeChannel(principal, channelId);
  const pins = (await readPins(channelId, PINS_READ)).sort(
    (a, b) => b.pinnedAt.getTime() - a.pinnedAt.getTime() || (a.messageId < b.messageId ? 1 : -1),
  );
  const messages = await Promise.all(pins.map((pin) => getMessageRecord(channelId, pin.messageId)));
  const live: MessageRecord[] = [];
  for (const [index, message] of messages.entries()) {
    if (message && !message.deleted) live.push(message);
    else await deletePin(channelId, pins[index]!.messageId);
  }
  return viewsOf(channelId, live);
}
