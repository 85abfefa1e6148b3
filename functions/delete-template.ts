import { deleteTemplate } from '#lib/use-cases/templates.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpRoute, noContent } from './http/pipeline.js';

export const handler = httpRoute('delete-template', async ({ principal, params }) => {
  await deleteTemplate(principal, params.channel_id, params.template_id);
  return noContent();
}, { rateLimiter: enforceWriteRate });
