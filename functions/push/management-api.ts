/** The AWS edge of push: posting a frame to a WebSocket connection through API Gateway's Management API. */
import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { ConnectionPoster } from '#lib/use-cases/push.js';

const clients = new Map<string, ApiGatewayManagementApiClient>();

/** A poster for the API whose management endpoint is `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`. */
export function managementApiPoster(endpoint: string, timeoutMs = 3000): ConnectionPoster {
  let client = clients.get(endpoint);
  if (!client) {
    // One attempt: a frame that fails is not retried (the client resumes from the changes feed).
    client = new ApiGatewayManagementApiClient({ endpoint, maxAttempts: 1 });
    clients.set(endpoint, client);
  }
  const api = client;
  return {
    async post(connectionId, frame) {
      try {
        await api.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: JSON.stringify(frame) }), { abortSignal: AbortSignal.timeout(timeoutMs) });
        return 'sent';
      } catch (error) {
        if (error instanceof GoneException || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 410) return 'gone';
        throw error;
      }
    },
  };
}
