/**
 * `npm start`: brings up (or reuses) the stores, applies the migrations, and serves the API on
 * http://127.0.0.1:${PORT:-3000} through the Lambda handlers. Prints a line containing `ready` when it
 * serves; Ctrl-C / SIGTERM stops the server and every store process it started.
 */
import { startLocalStores } from './stores.js';

export const LOCAL_TELEGRAM_WEBHOOK_SECRET = 'local-telegram-secret';

const port = Number(process.env.PORT ?? 3000);
const stores = await startLocalStores({ log: (line) => console.error(line) }).catch((error: unknown) => {
  console.error(`start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
Object.assign(process.env, stores.env, {
  TELEGRAM_WEBHOOK_SECRET: process.env.TELEGRAM_WEBHOOK_SECRET ?? LOCAL_TELEGRAM_WEBHOOK_SECRET,
  // EMF records on stdout are for CloudWatch; locally they would bury the access log. METRICS_ENABLED=true shows them.
  METRICS_ENABLED: process.env.METRICS_ENABLED ?? 'false',
});

// Imported once the environment is complete, which loadConfig() below installs as the configuration.
const { loadConfig, requireStores } = await import('../../lib/config.js');
const { migrateAll } = await import('../../lib/use-cases/migrations.js');
const { closeScylla } = await import('../../lib/scylla/client.js');
const { closePostgres } = await import('../../lib/postgres/pool.js');
const { startApiServer } = await import('./server.js');

let api: Awaited<ReturnType<typeof startApiServer>> | undefined;
try {
  const config = loadConfig();
  requireStores(config, ['scylla', 'postgres', 'redis']);
  await migrateAll(config, (line) => console.error(line));
  api = await startApiServer({ port });
} catch (error) {
  console.error(`start: ${error instanceof Error ? error.message : String(error)}`);
  await stores.stop();
  process.exit(1);
}

console.log(`ready: serving ${api.url} (${stores.cql.kind}); docs at ${api.url}/docs; push at ${api.url.replace(/^http/, "ws")}/ws`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.error(`start: ${signal}, shutting down…`);
  await api?.close();
  await closeScylla().catch(() => undefined);
  await closePostgres().catch(() => undefined);
  await stores.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
