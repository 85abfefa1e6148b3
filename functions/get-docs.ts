import { buildOpenApi, renderDocsHtml } from '#lib/api/openapi.js';
import { httpRoute } from './http/pipeline.js';
import { routes } from './routes.js';

const page = renderDocsHtml(buildOpenApi(routes));

export const handler = httpRoute('get-docs', async () => ({
  statusCode: 200,
  headers: { 'content-type': 'text/html; charset=utf-8' },
  body: page,
}));
