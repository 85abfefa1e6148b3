import { createTemplate } from '#lib/use-cases/templates.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('create-template', async ({ principal, params, body }) =>
  json(201, await createTemplate(principal, params.channel_id, { name: body.name, content: body.content })),
{ rateLimiter: enforceWriteRate });
