/**
 * The WebSocket API's `$connect` authorizer: the JWT (query `token`, or the Sec-WebSocket-Protocol header) must
 * be one the HTTP API accepts (same issuer and audience; keys from the issuer's OIDC discovery). Allowed
 * connections carry the user id and whether it is a service principal to the routes as authorizer context.
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { getConfig } from '#lib/config.js';
import { log } from '#lib/log.js';
import { authenticateConnection } from '#lib/use-cases/push.js';
import { tokenOf } from './push/token-of.js';

export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const { issuer, audience } = getConfig().jwt;
  if (!issuer || !audience) throw new Error('JWT_ISSUER and JWT_AUDIENCE must be set for the WebSocket authorizer');
  try {
    const principal = await authenticateConnection(tokenOf(event.queryStringParameters, event.headers), { issuer, audience });
    return {
      principalId: principal.userId,
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }] },
      context: { userId: principal.userId, service: principal.isService ? 'true' : 'false' },
    };
  } catch (error) {
    log().info('WebSocket connection refused', { reason: (error as Error).message });
    // API Gateway answers 401 to this exact message.
    throw new Error('Unauthorized', { cause: error });
  }
}
