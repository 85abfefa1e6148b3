/** Telegram Bot API shapes for tests, and a local HTTP stand-in for the Bot API and a history source. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Message, Update } from '@grammyjs/types';
import { SERVICE_SCOPE } from '../../lib/auth/principal.js';
import type { ApiClient } from './api.js';
import { TEST_WEBHOOK_SECRET } from './constants.js';

let nextUpdateId = 1_000;

export function randomChatId(): number {
  return -1_000_000_000_000 - Math.floor(Math.random() * 1e9);
}

export function textMessage(chatId: number, messageId: number, text: string, extra: Partial<Message> = {}): Message {
  return {
    message_id: messageId,
    date: Math.floor(Date.now() / 1000) - 3600 + messageId,
    chat: { id: chatId, type: 'supergroup', title: 'Bridged group' },
    from: { id: 4242, is_bot: false, first_name: 'Ada' },
    text,
    ...extra,
  };
}

export function update(kind: 'message' | 'edited_message' | 'channel_post' | 'edited_channel_post', message: Message): Update {
  return { update_id: nextUpdateId++, [kind]: message };
}

export interface StandIn {
  url: string;
  requests: string[];
  /** Messages the history source can serve, by chat. */
  history: Map<number, Message[]>;
  webhookInfo: Record<string, unknown>;
  close(): Promise<void>;
}

/** The only stand-in the suite uses: Telegram's servers are outside this machine. */
export async function startTelegramStandIn(): Promise<StandIn> {
  const standIn: Omit<StandIn, 'url' | 'close'> = {
    requests: [],
    history: new Map(),
    webhookInfo: { url: 'https://example.test/telegram/webhook', has_custom_certificate: false, pending_update_count: 3, last_error_date: 1_700_000_000, last_error_message: 'Connection timed out' },
  };
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    standIn.requests.push(`${request.method} ${url.pathname}${url.search}`);
    response.setHeader('content-type', 'application/json');
    if (/^\/bot[^/]+\/getWebhookInfo$/.test(url.pathname)) {
      response.end(JSON.stringify({ ok: true, result: standIn.webhookInfo }));
      return;
    }
    const history = /^\/history\/chats\/(-?\d+)\/messages$/.exec(url.pathname);
    if (history) {
      const from = Number(url.searchParams.get('from_id'));
      const to = Number(url.searchParams.get('to_id'));
      const messages = (standIn.history.get(Number(history[1])) ?? []).filter((m) => m.message_id >= from && m.message_id <= to);
      response.end(JSON.stringify({ messages }));
      return;
    }
    response.statusCode = 404;
    response.end(JSON.stringify({ ok: false, description: 'Not Found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...standIn,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A channel linked to a fresh Telegram chat, owned by a fresh user. */
export async function linkedChannel(api: { user(options?: { scope?: string }): Promise<ApiClient> }): Promise<{ owner: ApiClient; channelId: string; chatId: number }> {
  // Linking a chat is the bot operator's act: a service principal links the owner's channel.
  const owner = await api.user();
  const chatId = randomChatId();
  const channelId = (await owner.post('/channels', { name: 'bridge' })).body.id as string;
  const service = await api.user({ scope: SERVICE_SCOPE });
  const linked = await service.post(`/channels/${channelId}/telegram-link`, { telegram_chat_id: chatId });
  if (linked.status !== 200) throw new Error(`linking the Telegram chat failed: ${linked.status} ${JSON.stringify(linked.body)}`);
  return { owner, channelId, chatId };
}

/** Posts a body to the webhook with the test secret (or another, or none with null). */
export function deliverTo(api: { anonymous(): ApiClient }, body: unknown, secret: string | null = TEST_WEBHOOK_SECRET) {
  return api.anonymous().request('POST', '/telegram/webhook', body, secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret });
}
