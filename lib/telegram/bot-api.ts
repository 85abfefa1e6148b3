/**
 * The outside sources the service reads: the Bot API (getWebhookInfo for the reconciler; setWebhook and
 * deleteWebhook for the webhook-registration custom resource), and a history source.
 */
import type { Message, WebhookInfo } from '@grammyjs/types';
import type { Config } from '../config.js';
import { resolveTelegramHistoryToken } from '../secrets.js';

const TIMEOUT_MS = 5000;

async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!response.ok) throw new Error(`${new URL(url).host} answered ${response.status}`);
  return (await response.json()) as T;
}

/**
 * A Bot API call that did not succeed. `errorCode` is Telegram's `error_code` (its HTTP status) when it
 * answered, undefined when it did not (network failure, timeout, a body that is not a Bot API answer).
 * The message names the method and Telegram's description, never the token (it is part of the URL).
 */
export class BotApiError extends Error {
  override name = 'BotApiError';
  constructor(
    readonly method: string,
    readonly errorCode: number | undefined,
    readonly description: string,
  ) {
    super(`Telegram Bot API ${method} failed: ${errorCode === undefined ? '' : `${errorCode} `}${description}`);
  }
}

interface BotApiAnswer<T> {
  ok?: boolean;
  result?: T;
  error_code?: number;
  description?: string;
}

/** The cause of a failed fetch, as far as it can be told without the URL (which carries the token). */
function networkCause(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time';
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === 'string' ? `unreachable (${cause.code})` : 'unreachable';
}

/**
 * Calls a Bot API method: POST with a JSON body, as Telegram accepts for every method. Resolves with the
 * answer's `result`; throws a BotApiError for `ok: false` (whatever the HTTP status), for a body that is not
 * a Bot API answer, and for a request that got no answer.
 */
export async function callBotApi<T>(
  config: Config['telegram'],
  botToken: string,
  method: string,
  params: Record<string, unknown> = {},
  timeoutMs = TIMEOUT_MS,
): Promise<T> {
  const url = `${config.apiUrl.replace(/\/$/, '')}/bot${botToken}/${method}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(params),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new BotApiError(method, undefined, `${new URL(config.apiUrl).host} ${networkCause(error)}`);
  }
  let answer: BotApiAnswer<T>;
  try {
    answer = (await response.json()) as BotApiAnswer<T>;
  } catch {
    throw new BotApiError(method, response.status, 'the answer is not a Bot API JSON body');
  }
  if (answer.ok !== true || answer.result === undefined) {
    throw new BotApiError(method, answer.error_code ?? response.status, answer.description ?? 'no result');
  }
  return answer.result;
}

export function getWebhookInfo(config: Config['telegram'], botToken: string): Promise<WebhookInfo> {
  return callBotApi<WebhookInfo>(config, botToken, 'getWebhookInfo');
}

/**
 * A bot cannot read a chat's history, so backfill needs a history source (a user-session bridge, an export
 * service). Its contract: `GET {url}/chats/{chat_id}/messages?from_id=A&to_id=B` answers
 * `{"messages": [Bot API Message, …]}` with the messages whose ids lie in [A, B] that it has.
 */
export async function fetchHistory(config: Config['telegram'], chatId: number, fromId: number, toId: number): Promise<Message[]> {
  if (!config.historyUrl) return [];
  const url = `${config.historyUrl.replace(/\/$/, '')}/chats/${chatId}/messages?from_id=${fromId}&to_id=${toId}`;
  const token = await resolveTelegramHistoryToken(config);
  const answer = await getJson<{ messages?: Message[] }>(url, token ? { authorization: `Bearer ${token}` } : {});
  return Array.isArray(answer.messages) ? answer.messages : [];
}
