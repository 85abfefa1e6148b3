/**
 * What a Telegram message contributes: its media as attachments (photo, document, video, voice, sticker, one
 * each, `tg://file/<file_id>`), and as content its text or caption, "" for captionless media that became
 * attachments, or a short note of other media.
 */
import type { Message } from '@grammyjs/types';
import { MAX_CONTENT_CODE_POINTS, type Attachment } from '../messages/model.js';

function truncate(text: string): string {
  const points = [...text];
  return points.length <= MAX_CONTENT_CODE_POINTS ? text : points.slice(0, MAX_CONTENT_CODE_POINTS).join('');
}

interface TelegramFile {
  file_id: string;
  file_unique_id?: string;
  file_size?: number;
  width?: number;
  height?: number;
}

function attachment(file: TelegramFile, filename: string, contentType: string, withSize: boolean): Attachment {
  return {
    id: file.file_unique_id ?? file.file_id,
    url: `tg://file/${file.file_id}`,
    filename,
    content_type: contentType,
    size: file.file_size ?? 0,
    ...(withSize && file.width ? { width: file.width } : {}),
    ...(withSize && file.height ? { height: file.height } : {}),
  };
}

/** One attachment per photo (its largest size), document, video, voice message and sticker. */
export function telegramAttachments(message: Message): Attachment[] {
  const found: Attachment[] = [];
  if (message.photo && message.photo.length > 0) {
    const largest = message.photo.reduce((best, size) =>
      size.width * size.height > best.width * best.height || (size.width * size.height === best.width * best.height && (size.file_size ?? 0) > (best.file_size ?? 0))
        ? size
        : best,
    );
    found.push(attachment(largest, 'photo.jpg', 'image/jpeg', true));
  }
  if (message.document) {
    found.push(attachment(message.document, message.document.file_name ?? 'document', message.document.mime_type ?? 'application/octet-stream', false));
  }
  if (message.video) {
    found.push(attachment(message.video, message.video.file_name ?? 'video.mp4', message.video.mime_type ?? 'video/mp4', true));
  }
  if (message.voice) found.push(attachment(message.voice, 'voice.ogg', message.voice.mime_type ?? 'audio/ogg', false));
  if (message.sticker) {
    const sticker = message.sticker;
    const [filename, type] = sticker.is_animated ? ['sticker.tgs', 'application/x-tgsticker'] : sticker.is_video ? ['sticker.webm', 'video/webm'] : ['sticker.webp', 'image/webp'];
    found.push(attachment(sticker, filename, type, true));
  }
  return found;
}

/**
 * Undefined for service messages (joins, pins, topic changes…), which carry nothing to store. Captionless
 * media that became attachments store "" (and only then may content be empty).
 */
export function telegramContent(message: Message, attachments: readonly Attachment[] = telegramAttachments(message)): string | undefined {
  const text = message.text ?? message.caption;
  if (text && text.trim().length > 0) return truncate(text);
  if (attachments.length > 0) return '';
  if (message.animation) return '[GIF]';
  if (message.video_note) return '[video message]';
  if (message.audio) return `[audio${message.audio.title ? `: ${message.audio.title}` : ''}]`;
  if (message.location) return '[location]';
  if (message.contact) return '[contact]';
  if (message.poll) return truncate(`[poll: ${message.poll.question}]`);
  if (message.dice) return `[dice ${message.dice.emoji} ${message.dice.value}]`;
  return undefined;
}
