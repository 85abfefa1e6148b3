/**
 * The migration custom resource's onEvent handler (CDK Provider framework). Create and Update apply pending
 * migrations; Delete keeps the data. A failure throws, which the Provider framework reports as FAILED and
 * CloudFormation rolls back.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { getConfig, requireStores } from '#lib/config.js';
import { migrateAll } from '#lib/use-cases/migrations.js';

const config = getConfig();
requireStores(config, ['postgres']);

export interface MigrationResourceResponse {
  PhysicalResourceId: string;
  Data: { CqlApplied: string; SqlApplied: string; CqlVersions: string; SqlVersions: string };
}

export async function handler(event: CloudFormationCustomResourceEvent): Promise<MigrationResourceResponse> {
  // Stable across updates, so CloudFormation never sees a replacement and never sends a Delete for the old id.
  const physicalResourceId = `schema-migrations:${config.scylla.keyspace}:${config.postgres.schema}`;
  if (event.RequestType === 'Delete') {
    console.info(JSON.stringify({ message: 'Delete: keeping the schema and its data', physicalResourceId }));
    return { PhysicalResourceId: physicalResourceId, Data: { CqlApplied: '', SqlApplied: '', CqlVersions: '', SqlVersions: '' } };
  }
  const result = await migrateAll(config, (line) => console.info(JSON.stringify({ message: line })));
  const cqlAll = [...(result.cql?.alreadyApplied ?? []), ...(result.cql?.applied ?? [])].sort();
  const sqlAll = [...result.sql.alreadyApplied, ...result.sql.applied].sort();
  return {
    PhysicalResourceId: physicalResourceId,
    Data: {
      CqlApplied: (result.cql?.applied ?? []).join(','),
      SqlApplied: result.sql.applied.join(','),
      CqlVersions: cqlAll.join(','),
      SqlVersions: sqlAll.join(','),
    },
  };
}
