/** The two outside sources the reconciler reads: the Bot API's getWebhookInfo, and a history source. */
import type { Message, WebhookInfo } from '@grammyjs/types';
import type { Config } from '../config.js';

const TIMEOUT_MS = 5000;

async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!response.ok) throw new Error(`${new URL(url).host} answered ${response.status}`);
  return (await response.json()) as T;
}

export async function getWebhookInfo(config: Config['telegram'], botToken: string): Promise<WebhookInfo> {
  const answer = await getJson<{ ok: boolean; result?: WebhookInfo; description?: string }>(
    `${config.apiUrl.replace(/\/$/, '')}/bot${botToken}/getWebhookInfo`,
  );
  if (!answer.ok || !answer.result) throw new Error(`getWebhookInfo failed: ${answer.description ?? 'no result'}`);
  return answer.result;
}

/**
 * A bot cannot read a chat's history, so backfill needs a history source (a user-session bridge, an export
 * service). Its contract: `GET {url}/chats/{chat_id}/messages?from_id=A&to_id=B` answers
 * `{"messages": [Bot API Message, …]}` with the messages whose ids lie in [A, B] that it has.
 */
export async function fetchHistory(config: Config['telegram'], chatId: number, fromId: number, toId: number): Promise<Message[]> {
  if (!config.historyUrl) return [];
  const url = `${config.historyUrl.replace(/\/$/, '')}/chats/${chatId}/messages?from_id=${fromId}&to_id=${toId}`;
  const answer = await getJson<{ messages?: Message[] }>(url, config.historyToken ? { authorization: `Bearer ${config.historyToken}` } : {});
  return Array.isArray(answer.messages) ? answer.messages : [];
}
