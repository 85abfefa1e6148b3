/**
 * The WebSocket protocol of real-time push (API.md, "Real-time push"): frames a client sends, frames it gets.
 * Pure: parsing and shapes only.
 */
import type { ChangeView } from '../changes/model.js';

/** Channels one subscribe or unsubscribe frame may name. */
export const MAX_CHANNELS_PER_FRAME = 100;

export interface ChannelsFrame {
  action: 'subscribe' | 'unsubscribe';
  channel_ids: string[];
}

export type ServerFrame =
  | { type: 'change'; change: ChangeView }
  | { type: 'subscribed'; channel_ids: string[] }
  | { type: 'unsubscribed'; channel_ids: string[] }
  | { type: 'error'; code: string; message: string; channel_ids?: string[] };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A client frame, or the error frame that answers it. */
export function parseClientFrame(text: string): ChannelsFrame | Extract<ServerFrame, { type: 'error' }> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { type: 'error', code: 'invalid_frame', message: 'A frame is a JSON object' };
  }
  const frame = value as { action?: unknown; channel_ids?: unknown } | null;
  if (typeof frame !== 'object' || frame === null || (frame.action !== 'subscribe' && frame.action !== 'unsubscribe')) {
    return { type: 'error', code: 'unknown_action', message: 'action must be "subscribe" or "unsubscribe"' };
  }
  const ids = frame.channel_ids;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_CHANNELS_PER_FRAME || !ids.every((id) => typeof id === 'string' && UUID.test(id))) {
    return { type: 'error', code: 'invalid_frame', message: `channel_ids must list 1 to ${MAX_CHANNELS_PER_FRAME} channel ids (lower-case UUIDs)` };
  }
  return { action: frame.action, channel_ids: [...new Set(ids as string[])] };
}
