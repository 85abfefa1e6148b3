/**
 * What a Telegram message contributes: its media as attachments (photo, document, video, voice, sticker, one
 * each, `tg://file/<file_id>`), and as content its text or caption, "" for captionless media that became
 * attachments, or a short note of other media. Nothing here exceeds what the API itself accepts: content at
 * most 4096 code points (text, captions, audio titles and poll questions are cut, with an ellipsis), file
 * names at most 255 (extension kept), and no text PostgreSQL cannot store.
 */
import type { Message } from '@grammyjs/types';
import { MAX_CONTENT_CODE_POINTS, type Attachment } from '../messages/model.js';

/** The API's limit on an attachment's file name (lib/api/schemas.ts), kept for Telegram's names too. */
export const MAX_FILENAME_CODE_POINTS = 255;

/**
 * Telegram text cannot be refused (anything but a 2xx is redelivered forever), so what PostgreSQL cannot
 * store is replaced instead: U+0000 (PostgreSQL text refuses it) and lone surrogates (not encodable as UTF-8)
 * become U+FFFD, the replacement character, so the message is stored, indexed and searchable.
 */
export function storableText(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD').replace(/\p{Cs}/gu, '\uFFFD');
}

/** At most `max` code points, a cut marked with an ellipsis (never splitting a surrogate pair). */
export function truncate(text: string, max = MAX_CONTENT_CODE_POINTS): string {
  const points = [...text];
  return points.length <= max ? text : `${points.slice(0, max - 1).join('')}…`;
}

/** A file name cut to the API's limit, its extension kept (`report….pdf`) when it has a short one. */
function fileName(name: string): string {
  const clean = storableText(name);
  const points = [...clean];
  if (points.length <= MAX_FILENAME_CODE_POINTS) return clean;
  const extension = /\.[^.\s]{1,16}$/u.exec(clean)?.[0] ?? '';
  return `${truncate(clean.slice(0, clean.length - extension.length), MAX_FILENAME_CODE_POINTS - [...extension].length)}${extension}`;
}

/** `[label: text]` within the content limit: the text is cut, the brackets kept. */
function note(label: string, text: string | undefined): string {
  if (!text) return `[${label}]`;
  const frame = [...`[${label}: ]`].length;
  return `[${label}: ${truncate(storableText(text), MAX_CONTENT_CODE_POINTS - frame)}]`;
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
    id: storableText(file.file_unique_id ?? file.file_id),
    url: `tg://file/${file.file_id}`,
    filename: fileName(filename),
    content_type: storableText(contentType),
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
  if (text && text.trim().length > 0) return truncate(storableText(text));
  if (attachments.length > 0) return '';
  if (message.animation) return '[GIF]';
  if (message.video_note) return '[video message]';
  if (message.audio) return note('audio', message.audio.title);
  if (message.location) return '[location]';
  if (message.contact) return '[contact]';
  if (message.poll) return note('poll', message.poll.question);
  if (message.dice) return note('dice', `${message.dice.emoji} ${message.dice.value}`);
  return undefined;
}
