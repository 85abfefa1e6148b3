/**
 * The Telegram webhook-registration custom resource's onEvent handler (CDK Provider framework). Create and
 * Update point the bot at `WebhookUrl` (setWebhook with the secret token and `AllowedUpdates`); Delete
 * removes the webhook only while it still points at this stack's URL. A failure throws, which the Provider
 * framework reports as FAILED. The rules live in lib/telegram/webhook-registration.ts.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { getConfig } from '#lib/config.js';
import { applyWebhookResource } from '#lib/use-cases/telegram-webhook-registration.js';

const config = getConfig();

export interface WebhookResourceResponse {
  PhysicalResourceId: string;
  Data: { WebhookUrl: string; AllowedUpdates: string };
}

export async function handler(event: CloudFormationCustomResourceEvent): Promise<WebhookResourceResponse> {
  const result = await applyWebhookResource(config.telegram, {
    requestType: event.RequestType,
    physicalResourceId: event.RequestType === 'Create' ? undefined : event.PhysicalResourceId,
    properties: event.ResourceProperties,
  });
  return { PhysicalResourceId: result.physicalResourceId, Data: result.data };
}
