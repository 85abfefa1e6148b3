/**
 * Prints the OpenAPI document generated from the route table, as the service serves it at /openapi.json.
 * Reaches no store: `npm run lint:openapi` lints its output with Redocly.
 *   node --import tsx infra/cli/openapi.ts [file]   (stdout without a file)
 */
import { writeFileSync } from 'node:fs';
import { routes } from '../../functions/routes.js';
import { buildOpenApi } from '../../lib/api/openapi.js';

const text = `${JSON.stringify(buildOpenApi(routes), null, 2)}\n`;
const file = process.argv[2];
if (file) writeFileSync(file, text);
else process.stdout.write(text);
