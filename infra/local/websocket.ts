/**
 * The local server's WebSocket endpoint, `ws://localhost:$PORT/ws`: API Gateway's WebSocket API played with
 * `ws`, around the same code as in AWS (lib/use-cases/push.ts): the same `$connect` check, the same frame
 * handling and registry (Redis, through the local Upstash endpoint), the same fan-out. Only the two AWS edges
 * are local: the changes bus is an in-process sink that fans out here (and runs the search indexer, the bus's
 * other consumer), and posting to a connection writes to its socket.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { createLocalJWKSet } from 'jose';
import { WebSocket, WebSocketServer } from 'ws';
import type { ChangeView } from '../../lib/changes/model.js';
import { fanOutFunction, indexMessagesFunction } from '../../functions/routes.js';
import { tokenOf } from '../../functions/push/token-of.js';
import { flushMetrics, metricsFor, withMetrics, withoutMetrics } from '../../lib/observability/metrics.js';
import { releaseChangeSink, useChangeSink, type ChangeSink } from '../../lib/use-cases/publish.js';
import { indexChange } from '../../lib/use-cases/search-indexing.js';
import { answerUnknownFrame, authenticateConnection, closeConnection, fanOut, handleClientFrame, openConnection, type ConnectionPoster } from '../../lib/use-cases/push.js';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, publicJwks } from './jwt.js';

export const WEBSOCKET_PATH = '/ws';

/**
 * How long a request's end waits for the indexing of the changes it published. In AWS nothing waits (the
 * indexer is a Lambda of its own on the bus); locally the wait makes a search right after a write find it, as
 * tests expect, but is bounded, so a PostgreSQL that hangs does not hold every local write for its timeout.
 */
export const LOCAL_INDEX_WAIT_MS = 1000;

/** Routes a frame as API Gateway's route selection (`$request.body.action`) would. */
function routeKeyOf(text: string): string {
  try {
    const action = (JSON.parse(text) as { action?: unknown } | null)?.action;
    return action === 'subscribe' || action === 'unsubscribe' ? action : '$default';
  } catch {
    return '$default';
  }
}

export interface LocalWebSockets {
  close(): Promise<void>;
}

export function attachWebSockets(server: Server): LocalWebSockets {
  const sockets = new Map<string, WebSocket>();
  const poster: ConnectionPoster = {
    post(connectionId, frame) {
      const socket = sockets.get(connectionId);
      if (!socket || socket.readyState !== WebSocket.OPEN) return Promise.resolve('gone');
      return new Promise((resolve, reject) => socket.send(JSON.stringify(frame), (error) => (error ? reject(error) : resolve('sent'))));
    },
  };

  // The bus: changes of one channel are fanned out one after the other, in the order they were published
  // (EventBridge gives no order; locally, one process, order is free and tests rely on it).
  const chains = new Map<string, Promise<void>>();
  // The bus's other consumer, the search indexer (functions/index-messages.ts in AWS): its own metrics, as there.
  const indexMetrics = metricsFor(indexMessagesFunction.handler);
  const pendingIndexing = new Set<Promise<void>>();
  const index = (change: ChangeView): Promise<void> => {
    const done: Promise<void> = withMetrics(indexMetrics, () => indexChange(change))
      .then(
        () => undefined,
        (error: unknown) => console.error('local search indexer failed', error),
      )
      .finally(() => {
        flushMetrics(indexMetrics);
        pendingIndexing.delete(done);
      });
    pendingIndexing.add(done);
    return done;
  };
  const sink: ChangeSink = {
    publish(changes: readonly ChangeView[]) {
      const indexing: Promise<void>[] = [];
      for (const change of changes) {
        const previous = chains.get(change.channel_id) ?? Promise.resolve();
        const next = previous
          // In AWS the fan-out is a Lambda of its own: its work is not the publishing request's (nor its metrics).
          .then(() => withoutMetrics(() => fanOut(change, poster, fanOutFunction.concurrency)))
          .then(
            () => undefined,
            (error: unknown) => console.error('local fan-out failed', error),
          );
        chains.set(change.channel_id, next);
        void next.finally(() => {
          if (chains.get(change.channel_id) === next) chains.delete(change.channel_id);
        });
        if (indexMessagesFunction.changeTypes.includes(change.type)) indexing.push(index(change));
      }
      // The publishing request awaits this at its end (settlePublishes): its changes' indexing, bounded.
      if (indexing.length === 0) return Promise.resolve();
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, LOCAL_INDEX_WAIT_MS)));
      return Promise.race([Promise.all(indexing).then(() => undefined), bound]).finally(() => clearTimeout(timer));
    },
  };
  useChangeSink(sink);

  const wss = new WebSocketServer({
    noServer: true,
  });

  const refuse = (socket: Duplex, status: number, reason: string) => {
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${JSON.stringify({ message: reason })}`);
  };

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://local');
    if (url.pathname !== WEBSOCKET_PATH) {
      refuse(socket, 404, 'Not Found');
      return;
    }
    // As API Gateway with the query string as the authorizer's identity source: no `token` parameter is a 401
    // before the authorizer runs.
    if (!url.searchParams.get('token')) {
      refuse(socket, 401, 'Unauthorized');
      return;
    }
    void (async () => {
      let principal;
      try {
        principal = await authenticateConnection(tokenOf(Object.fromEntries(url.searchParams), request.headers as Record<string, string>), {
          issuer: LOCAL_ISSUER,
          audience: LOCAL_AUDIENCE,
          keys: createLocalJWKSet(await publicJwks()),
        });
      } catch {
        refuse(socket, 401, 'Unauthorized');
        return;
      }
      const connectionId = randomBytes(12).toString('base64');
      try {
        await openConnection(connectionId, principal);
      } catch {
        refuse(socket, 503, 'Service Unavailable');
        return;
      }
      wss.handleUpgrade(request, socket, head, (ws) => {
        sockets.set(connectionId, ws);
        ws.on('message', (data: Buffer) => {
          const text = data.toString('utf8');
          const work = routeKeyOf(text) === '$default' ? answerUnknownFrame(connectionId, poster) : handleClientFrame(connectionId, text, poster);
          work.catch((error: unknown) => {
            void poster.post(connectionId, { type: 'error', code: 'unavailable', message: 'The service could not handle this frame; retry shortly' }).catch(() => undefined);
            console.error('local websocket: frame failed', error);
          });
        });
        ws.on('close', () => {
          sockets.delete(connectionId);
          // A vanished connection left behind is found gone by the next fan-out and expires with its TTL anyway.
          closeConnection(connectionId).catch((error: unknown) => console.error('local websocket: could not forget a closed connection', (error as Error).message));
        });
      });
    })();
  };
  server.on('upgrade', onUpgrade);

  return {
    async close() {
      server.off('upgrade', onUpgrade);
      releaseChangeSink(sink);
      for (const socket of sockets.values()) socket.terminate();
      await Promise.allSettled([...chains.values(), ...pendingIndexing]);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
