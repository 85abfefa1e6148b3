/**
 * Every route of the WebSocket API: `$connect` (after the authorizer) registers the connection, `$disconnect`
 * forgets it, `subscribe` / `unsubscribe` handle a client frame, `$default` answers an error frame. Replies go
 * back through the Management API of the API the event came from.
 */
import type { APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { getConfig, requireStores } from '#lib/config.js';
import { log } from '#lib/log.js';
import { flushMetrics, metricsFor, withMetrics } from '#lib/observability/metrics.js';
import { answerUnknownFrame, closeConnection, handleClientFrame, openConnection } from '#lib/use-cases/push.js';
import { managementApiPoster } from './push/management-api.js';
import { wsRoutesFunction } from './routes.js';

requireStores(getConfig(), wsRoutesFunction.stores);
const metrics = metricsFor(wsRoutesFunction.handler);

export interface WebSocketEvent {
  body?: string;
  requestContext: {
    routeKey: string;
    connectionId: string;
    domainName: string;
    stage: string;
    authorizer?: { userId?: string; service?: string };
  };
}

export async function handler(event: WebSocketEvent, context: Context): Promise<APIGatewayProxyResultV2> {
  log().addContext(context);
  const { routeKey, connectionId, domainName, stage, authorizer } = event.requestContext;
  return withMetrics(metrics, async () => {
    try {
      const poster = managementApiPoster(`https://${domainName}/${stage}`);
      switch (routeKey) {
        case '$connect':
          if (!authorizer?.userId) return { statusCode: 401 };
          await openConnection(connectionId, { userId: authorizer.userId, isService: authorizer.service === 'true' });
          return { statusCode: 200 };
        case '$disconnect':
          await closeConnection(connectionId);
          return { statusCode: 200 };
        case 'subscribe':
        case 'unsubscribe':
          await handleClientFrame(connectionId, event.body ?? '', poster);
          return { statusCode: 200 };
        default:
          await answerUnknownFrame(connectionId, poster);
          return { statusCode: 200 };
      }
    } finally {
      flushMetrics(metrics);
    }
  });
}
