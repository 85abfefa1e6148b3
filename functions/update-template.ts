import { updateTemplate } from '#lib/use-cases/templates.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('update-template', async ({ principal, params, body }) =>
  json(200, await updateTemplate(principal, params.channel_id, params.template_id, { name: body.name, content: body.content })),
{ rateLimiter: enforceWriteRate });
