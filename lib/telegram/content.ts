/** What a Telegram message contributes as content: its text, its caption, or a short note of its media. */
import type { Message } from '@grammyjs/types';
import { MAX_CONTENT_CODE_POINTS } from '../messages/model.js';

function truncate(text: string): string {
  const points = [...text];
  return points.length <= MAX_CONTENT_CODE_POINTS ? text : points.slice(0, MAX_CONTENT_CODE_POINTS).join('');
}

/** Undefined for service messages (joins, pins, topic changes…), which carry nothing to store. */
export function telegramContent(message: Message): string | undefined {
  const text = message.text ?? message.caption;
  if (text && text.trim().length > 0) return truncate(text);
  if (message.photo) return '[photo]';
  if (message.video) return '[video]';
  if (message.animation) return '[GIF]';
  if (message.voice) return '[voice message]';
  if (message.video_note) return '[video message]';
  if (message.audio) return `[audio${message.audio.title ? `: ${message.audio.title}` : ''}]`;
  if (message.document) return `[document${message.document.file_name ? `: ${message.document.file_name}` : ''}]`;
  if (message.sticker) return `[sticker${message.sticker.emoji ? ` ${message.sticker.emoji}` : ''}]`;
  if (message.location) return '[location]';
  if (message.contact) return '[contact]';
  if (message.poll) return truncate(`[poll: ${message.poll.question}]`);
  if (message.dice) return `[dice ${message.dice.emoji} ${message.dice.value}]`;
  return undefined;
}
