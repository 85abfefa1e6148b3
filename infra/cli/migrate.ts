/** `npm run migrate`: applies pending CQL and SQL migrations to the configured stores. */
import { loadConfig, requireStores } from '../../lib/config.js';
import { migrateAll } from '../../lib/use-cases/migrations.js';

try {
  const config = loadConfig();
  requireStores(config, ['postgres']);
  const result = await migrateAll(config);
  console.error(
    `migrate: done (cql applied: ${result.cql?.applied.join(',') || 'none'}; sql applied: ${result.sql.applied.join(',') || 'none'})`,
  );
} catch (error) {
  console.error(`migrate: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
