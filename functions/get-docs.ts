import { buildOpenApi, renderDocsHtml } from '#lib/api/openapi.js';
import { httpHandler } from './http/handler.js';
import { routes } from './routes.js';

const page = renderDocsHtml(buildOpenApi(routes));

export const handler = httpHandler({ stores: [], auth: false }, async () => ({
  statusCode: 200,
  headers: { 'content-type': 'text/html; charset=utf-8' },
  body: page,
}));
