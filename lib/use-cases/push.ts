/**
 * Real-time push over WebSockets (API.md, "Real-time push"): a connection's life (open, frames, close) and
 * the fan-out of a change to the connections listening to its channel. The same code serves API Gateway's
 * WebSocket API (functions/ws-*.ts, functions/fan-out.ts) and the local server's `/ws`; only the way a frame
 * reaches a connection (ConnectionPoster) differs.
 */
import type { Principal } from '../auth/principal.js';
import { authorizeChannel } from '../channels/access.js';
import type { ChangeView } from '../changes/model.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import { log } from '../log.js';
import { countMetric, METRIC } from '../observability/metrics.js';
import type { JWTVerifyGetKey } from 'jose';
import { parseClientFrame, type ServerFrame } from '../push/model.js';
import { issuerKeys, verifyToken } from '../push/token.js';
import {
  channelConnections,
  connectionOwner,
  dropChannel,
  forgetConnection,
  registerConnection,
  subscribe,
  unsubscribe,
  unsubscribeUser,
  userChannelConnections,
  userConnections,
} from '../push/registry.js';
import { mapConcurrently } from '../scylla/execute.js';

/** How a frame reaches one connection: `gone` when the connection no longer exists (API Gateway's 410). */
export interface ConnectionPoster {
  post(connectionId: string, frame: ServerFrame): Promise<'sent' | 'gone'>;
}

/** Membership checks of one subscribe frame run side by side, this many at once. */
const CHECKS_AT_ONCE = 16;

/**
 * The `$connect` check, for the Lambda authorizer and the local server alike: the token must be one the HTTP
 * API accepts. `keys` defaults to the issuer's published keys (OIDC discovery); the local server passes its own.
 */
/**
 * WebSocket connections are users' only: the token is checked against the user audience (a service token,
 * issued for the service audience, is refused there), and even a token that carries both audiences and the
 * service scope connects as a plain user, so a push connection never listens with a service's reach.
 */
export async function authenticateConnection(token: string | undefined, policy: { issuer: string; audience: string; keys?: JWTVerifyGetKey }): Promise<Principal> {
  const principal = await verifyToken(token, { issuer: policy.issuer, audience: policy.audience, keys: policy.keys ?? (await issuerKeys(policy.issuer)) });
  return { userId: principal.userId, isService: false };
}

export async function openConnection(connectionId: string, principal: Principal): Promise<void> {
  await registerConnection(connectionId, principal);
}

export async function closeConnection(connectionId: string): Promise<void> {
  await forgetConnection(connectionId);
}

/** May the principal listen to the channel? The same check as every channel route (404 and 403 both refuse). */
async function mayListen(principal: Principal, channelId: string): Promise<boolean> {
  try {
    await authorizeChannel(principal, channelId);
    return true;
  } catch (error) {
    if (error instanceof ForbiddenError || error instanceof NotFoundError) return false;
    throw error;
  }
}

/** A frame from the client: subscribe (membership checked per channel), unsubscribe, or an error frame back. */
export async function handleClientFrame(connectionId: string, text: string, poster: ConnectionPoster): Promise<void> {
  const frame = parseClientFrame(text);
  if ('type' in frame) {
    await poster.post(connectionId, frame);
    return;
  }
  const principal = await connectionOwner(connectionId);
  if (!principal) {
    await poster.post(connectionId, { type: 'error', code: 'unknown_connection', message: 'This connection has expired; reconnect' });
    return;
  }
  if (frame.action === 'unsubscribe') {
    await unsubscribe(connectionId, frame.channel_ids);
    await poster.post(connectionId, { type: 'unsubscribed', channel_ids: frame.channel_ids });
    return;
  }
  const allowed = await mapConcurrently(frame.channel_ids, CHECKS_AT_ONCE, (channelId) => mayListen(principal, channelId));
  const accepted = frame.channel_ids.filter((_, index) => allowed[index]);
  const refused = frame.channel_ids.filter((_, index) => !allowed[index]);
  await subscribe(connectionId, accepted);
  // A removal that committed between the check and the subscription unsubscribed nothing (this connection was
  // not listening yet): checked again once listening, and undone for a channel that now refuses.
  const still = await mapConcurrently(accepted, CHECKS_AT_ONCE, (channelId) => mayListen(principal, channelId));
  const lost = accepted.filter((_, index) => !still[index]);
  if (lost.length > 0) {
    await unsubscribe(connectionId, lost);
    refused.push(...lost);
    accepted.splice(0, accepted.length, ...accepted.filter((channelId) => !lost.includes(channelId)));
  }
  if (accepted.length > 0) await poster.post(connectionId, { type: 'subscribed', channel_ids: accepted });
  if (refused.length > 0) {
    await poster.post(connectionId, { type: 'error', code: 'forbidden', message: 'Not a member of these channels (or they do not exist)', channel_ids: refused });
  }
}

/** What the protocol answers to a frame that names no action it knows (API Gateway's `$default`). */
export async function answerUnknownFrame(connectionId: string, poster: ConnectionPoster): Promise<void> {
  await poster.post(connectionId, { type: 'error', code: 'unknown_action', message: 'action must be "subscribe" or "unsubscribe"' });
}

/**
 * A member left or was removed: their connections stop listening to the channel at once (before the removal
 * is answered). Redis failing here does not undo the removal: it is logged, and the fan-out, which reads the
 * same Redis, is then not delivering anything either.
 */
export async function stopListening(channelId: string, userId: string): Promise<void> {
  try {
    await unsubscribeUser(channelId, userId);
  } catch (error) {
    log().warn('could not unsubscribe a removed member from push', { channelId, error: error as Error });
  }
}

/**
 * Who gets a change: the connections listening to its channel; a read position only its reader's; a member's
 * removal also every connection of the removed member (already unsubscribed by the removal itself, they learn
 * of it from this last frame of the channel).
 */
async function recipientsOf(change: ChangeView): Promise<string[]> {
  const userId = typeof change.user_id === 'string' ? change.user_id : undefined;
  if (change.type === 'read_position.updated' && userId) return userChannelConnections(change.channel_id, userId);
  if (change.type === 'member.removed' && userId) {
    const [listening, theirs] = await Promise.all([channelConnections(change.channel_id), userConnections(userId)]);
    return [...new Set([...listening, ...theirs])];
  }
  return channelConnections(change.channel_id);
}

export interface FanOutReport {
  delivered: number;
  gone: number;
  failed: number;
}

/**
 * Posts one change to every connection listening to its channel (a read position only to its user's), at
 * most `concurrency` at once; forgets connections that are gone. A deleted channel is dropped from the
 * registry after its last frame.
 */
export async function fanOut(change: ChangeView, poster: ConnectionPoster, concurrency: number): Promise<FanOutReport> {
  const recipients = await recipientsOf(change);
  const outcomes = await mapConcurrently(recipients, concurrency, async (connectionId) => {
    try {
      return await poster.post(connectionId, { type: 'change', change });
    } catch (error) {
      log().warn('push frame not delivered', { connectionId, error: error as Error });
      return 'failed' as const;
    }
  });
  const gone = recipients.filter((_, index) => outcomes[index] === 'gone');
  // Once frames are out, nothing may throw: a failed invocation would be retried and post them all again.
  try {
    await mapConcurrently(gone, concurrency, (connectionId) => forgetConnection(connectionId));
    if (change.type === 'channel.deleted') await dropChannel(change.channel_id);
  } catch (error) {
    log().warn('push registry clean-up failed (entries expire with their TTL)', { channelId: change.channel_id, error: error as Error });
  }
  const report = { delivered: outcomes.filter((outcome) => outcome === 'sent').length, gone: gone.length, failed: outcomes.filter((outcome) => outcome === 'failed').length };
  countMetric(METRIC.pushDelivered, report.delivered);
  if (report.gone > 0) countMetric(METRIC.pushGone, report.gone);
  if (report.failed > 0) countMetric(METRIC.pushFailed, report.failed);
  return report;
}
