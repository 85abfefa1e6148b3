/**
 * The deploy inputs: checked at synth (one message listing every problem), the Aurora default, an existing
 * database, TLS and LOCAL_SERIAL in the functions' environment, and egress only where the stores are.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { routes, storesOf, type Route } from '../../functions/routes.js';
import { projectRoot } from '../../infra/cdk/bundling.js';
import { MessagesStack } from '../../infra/cdk/messages-stack.js';
import { DeploySettingsError, INPUTS, readDeploySettings } from '../../infra/cdk/settings.js';
import { EXAMPLE_INPUTS, exampleSettings } from './example-settings.js';

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };
const table: readonly Route[] = routes;
const ARN = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`;

/** The least a first deploy needs: the issuer, Scylla (with its credentials and where it is) and Upstash. */
const MINIMUM: Record<string, string> = {
  jwtIssuer: 'https://issuer.example.com',
  jwtAudience: 'chat-app',
  scyllaContactPoints: '10.1.0.10,10.1.0.11,10.1.0.12',
  scyllaLocalDc: 'eu-west',
  scyllaCredentialsSecretArn: ARN('scylla'),
  scyllaSecurityGroupId: 'sg-0123456789abcdef0',
  vpcId: 'vpc-0a1b2c3d4e5f60718',
  vpcAvailabilityZones: 'eu-west-1a,eu-west-1b',
  vpcPrivateSubnetIds: 'subnet-0a1b2c3d4e5f60718,subnet-08f7e6d5c4b3a2910',
  upstashUrl: 'https://eu1-example.upstash.io',
  upstashTokenSecretArn: ARN('upstash'),
};

function problemsOf(inputs: Record<string, string | undefined>): string[] {
  try {
    readDeploySettings((key) => inputs[key]);
  } catch (error) {
    expect(error).toBeInstanceOf(DeploySettingsError);
    return (error as Error).message.split('\n').filter((line) => line.startsWith('  - ')).map((line) => line.slice(4));
  }
  return [];
}

function synth(inputs: Record<string, string | undefined>, id = 'Settings') {
  const stack = new MessagesStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), id, { settings: readDeploySettings((key) => inputs[key]) });
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
  const variablesOf = (handler: string) => resources[stack.getLogicalId(stack.functions.get(handler)!.function.node.defaultChild as never)]!.Properties.Environment.Variables as Record<string, unknown>;
  return { stack, resources, variablesOf, ofType: (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type) };
}

describe('deploy settings', () => {
  it('with no inputs, names every required one in one message, each with what it is', () => {
    const problems = problemsOf({});
    const keys = problems.map((line) => line.split(':')[0]);
    expect(keys).toEqual(['jwtIssuer', 'jwtAudience', 'scyllaContactPoints', 'scyllaLocalDc', 'scyllaCredentialsSecretArn', 'scyllaSecurityGroupId', 'upstashUrl', 'upstashTokenSecretArn', 'vpcId']);
    for (const line of problems) expect(line).toContain(INPUTS[line.split(':')[0] as keyof typeof INPUTS]);
  });

  it('passes with the documented minimum, and with the documented example', () => {
    expect(problemsOf(MINIMUM)).toEqual([]);
    expect(problemsOf(EXAMPLE_INPUTS)).toEqual([]);
    // Empty strings (unset repository variables in the deploy workflow) count as not given.
    expect(problemsOf({ ...MINIMUM, databaseSecretArn: '', telegramBotTokenSecretArn: '', createVpc: '' })).toEqual([]);
  });

  it('refuses contradictory and malformed inputs, each named', () => {
    const cases: [Record<string, string>, string][] = [
      [{ scyllaAuthentication: 'false' }, 'scyllaAuthentication'],
      [{ scyllaReplication: 'us-east:3' }, 'scyllaReplication'],
      [{ scyllaReplication: 'SimpleStrategy:1' }, 'scyllaReplication'],
      [{ scyllaTls: 'false', scyllaCaSecretArn: ARN('ca') }, 'scyllaCaSecretArn'],
      [{ databaseSecretArn: ARN('db') }, 'databaseSecurityGroupId'],
      [{ databaseCidrs: '10.2.0.0/16' }, 'databaseSecretArn'],
      [{ databaseCa: 'letsencrypt' }, 'databaseCa'],
      [{ jwtServiceAudience: 'chat-app' }, 'jwtServiceAudience'],
      [{ jwtIssuer: 'http://issuer.example.com' }, 'jwtIssuer'],
      [{ upstashUrl: 'http://localhost:8079' }, 'upstashUrl'],
      [{ upstashTokenSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:upstash' }, 'upstashTokenSecretArn'],
      [{ vpcPrivateSubnetIds: '' }, 'vpcId'],
      [{ createVpc: 'true' }, 'createVpc'],
      [{ vpcAvailabilityZones: 'eu-west-1a', vpcPrivateSubnetIds: 'subnet-0a1b2c3d4e5f60718' }, 'vpcAvailabilityZones'],
      [{ vpcId: '', vpcAvailabilityZones: '', vpcPrivateSubnetIds: '', createVpc: 'true' }, 'scyllaSecurityGroupId'],
      [{ scyllaPort: '70000' }, 'scyllaPort'],
      [{ scyllaTls: 'false', scyllaTlsServerName: 'node.example.com' }, 'scyllaTlsServerName'],
      [{ scyllaCidrs: '10.300.0.0/16' }, 'scyllaCidrs'],
      [{ telegramHistoryUrl: 'https://history.example.com' }, 'telegramBotTokenSecretArn'],
      [{ logRetentionDays: '31' }, 'logRetentionDays'],
      [{ scyllaTls: 'yes' }, 'scyllaTls'],
    ];
    for (const [overrides, key] of cases) {
      const problems = problemsOf({ ...MINIMUM, ...overrides });
      expect(problems.map((line) => line.split(':')[0]), JSON.stringify(overrides)).toContain(key);
    }
    // A cluster without authentication: no credentials secret, said explicitly.
    expect(problemsOf({ ...MINIMUM, scyllaCredentialsSecretArn: undefined, scyllaAuthentication: 'false' })).toEqual([]);
  });

  it('stops a bare `cdk synth` with the message, before bundling anything', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'bare-synth-'));
    try {
      const result = spawnSync(join(projectRoot, 'node_modules', '.bin', 'cdk'), ['synth', '--quiet', '-o', outdir], { cwd: projectRoot, encoding: 'utf8', timeout: 120_000 });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('The deploy settings are incomplete or contradictory (9):');
      expect(result.stderr).toContain('  - jwtIssuer: required');
      expect(result.stderr).toContain('README.md, "Deploying"');
      expect(result.stderr).not.toMatch(/at .*settings\.ts/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('the stack from the settings', () => {
  it('creates Aurora PostgreSQL Serverless v2 when no database is given: encrypted, private, rotated, TLS forced, read through its secret', () => {
    const { resources, variablesOf, ofType } = synth(MINIMUM, 'Aurora');
    const [[, cluster]] = ofType('AWS::RDS::DBCluster') as [[string, Resource]];
    expect(cluster.Properties).toMatchObject({
      Engine: 'aurora-postgresql',
      StorageEncrypted: true,
      DeletionProtection: false,
      ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 16 },
    });
    expect(ofType('AWS::RDS::DBInstance').every(([, instance]) => instance.Properties.DBInstanceClass === 'db.serverless' && instance.Properties.PubliclyAccessible === false)).toBe(true);
    const [[, parameters]] = ofType('AWS::RDS::DBClusterParameterGroup') as [[string, Resource]];
    expect(parameters.Properties.Parameters).toMatchObject({ 'rds.force_ssl': '1' });
    const [[, subnets]] = ofType('AWS::RDS::DBSubnetGroup') as [[string, Resource]];
    expect(subnets.Properties.SubnetIds).toEqual(MINIMUM.vpcPrivateSubnetIds!.split(','));
    const [[attachmentId]] = ofType('AWS::SecretsManager::SecretTargetAttachment') as [[string, Resource]];
    const [[, rotation]] = ofType('AWS::SecretsManager::RotationSchedule') as [[string, Resource]];
    expect(rotation.Properties.SecretId).toEqual({ Ref: attachmentId });
    expect(rotation.Properties.RotationRules.ScheduleExpression ?? rotation.Properties.RotationRules.AutomaticallyAfterDays).toBeDefined();
    for (const route of table.filter((candidate) => storesOf(candidate).includes('postgres'))) {
      expect(variablesOf(route.handler), route.handler).toMatchObject({ DATABASE_URL_SECRET_ARN: { Ref: attachmentId }, DATABASE_TLS: 'true', DATABASE_TLS_CA: 'rds' });
    }
    // 5432 into the cluster from the functions' group only.
    const ingress = ofType('AWS::EC2::SecurityGroupIngress').map(([, rule]) => rule.Properties).filter((rule) => rule.FromPort === 5432);
    expect(ingress.length).toBeGreaterThanOrEqual(1);
    for (const rule of ingress) expect(rule.CidrIp).toBeUndefined();
    expect(Object.keys(resources).some((id) => id.startsWith('DatabaseLogs'))).toBe(true);
  });

  it('uses an existing database instead, with egress and ingress on 5432 to its group only, and TLS against the system store when asked', () => {
    const { variablesOf, ofType } = synth({ ...MINIMUM, databaseSecretArn: ARN('db'), databaseSecurityGroupId: 'sg-0fedcba9876543210', databaseCa: 'system' }, 'Existing');
    expect(ofType('AWS::RDS::DBCluster')).toHaveLength(0);
    expect(variablesOf('get-channel')).toMatchObject({ DATABASE_URL_SECRET_ARN: ARN('db'), DATABASE_TLS: 'true', DATABASE_TLS_CA: 'system' });
    const egress = ofType('AWS::EC2::SecurityGroupEgress').map(([, rule]) => rule.Properties);
    expect(egress).toContainEqual(expect.objectContaining({ FromPort: 5432, ToPort: 5432, DestinationSecurityGroupId: 'sg-0fedcba9876543210' }));
    const ingress = ofType('AWS::EC2::SecurityGroupIngress').map(([, rule]) => rule.Properties);
    expect(ingress).toContainEqual(expect.objectContaining({ FromPort: 5432, GroupId: 'sg-0fedcba9876543210' }));
  });

  it('turns TLS on by default for Scylla, takes the CA from its secret, LOCAL_SERIAL everywhere, and off only when said', () => {
    const tls = synth({ ...MINIMUM, scyllaCaSecretArn: ARN('scylla-ca') }, 'Tls');
    const plain = synth({ ...MINIMUM, scyllaTls: 'false', databaseTls: 'false' }, 'Plain');
    for (const route of table.filter((candidate) => candidate.stores.includes('scylla'))) {
      expect(tls.variablesOf(route.handler), route.handler).toMatchObject({
        SCYLLA_TLS: 'true',
        SCYLLA_PORT: '9142',
        SCYLLA_TLS_CA_SECRET_ARN: ARN('scylla-ca'),
        SCYLLA_SERIAL_CONSISTENCY: 'LOCAL_SERIAL',
        SCYLLA_LOCAL_DC: 'eu-west',
        SCYLLA_REPLICATION: 'eu-west:3',
      });
      expect(plain.variablesOf(route.handler), route.handler).toMatchObject({ SCYLLA_TLS: 'false', SCYLLA_PORT: '9042', DATABASE_TLS: 'false' });
      expect('SCYLLA_TLS_CA_SECRET_ARN' in plain.variablesOf(route.handler)).toBe(false);
    }
    // The CA secret is readable by the Scylla functions.
    const reads = tls.ofType('AWS::IAM::Policy').flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as any[]).filter((statement) => [statement.Action].flat().includes('secretsmanager:GetSecretValue'));
    expect(reads.flatMap((statement) => [statement.Resource].flat())).toContain(ARN('scylla-ca'));
  });

  it('lets the functions egress on 9042 and 5432 only to the stores, never to 0.0.0.0/0', () => {
    for (const [inputs, id] of [
      [MINIMUM, 'EgressGroup'],
      [{ ...MINIMUM, scyllaSecurityGroupId: undefined, scyllaCidrs: '10.9.0.0/16,10.10.0.0/16' }, 'EgressCidrs'],
      [{ ...MINIMUM, scyllaSecurityGroupId: undefined, scyllaCidrs: '10.9.0.0/16,10.10.0.0/16', vpcId: undefined, vpcAvailabilityZones: undefined, vpcPrivateSubnetIds: undefined, createVpc: 'true' }, 'EgressNewVpc'],
    ] as Record<string, string | undefined>[][]) {
      const { ofType, stack } = synth(inputs as Record<string, string | undefined>, id as unknown as string);
      const functionsGroup = ofType('AWS::EC2::SecurityGroup').find(([, group]) => String(group.Properties.GroupDescription).startsWith('Message-store Lambdas'))!;
      const inline = (functionsGroup[1].Properties.SecurityGroupEgress ?? []) as any[];
      const separate = ofType('AWS::EC2::SecurityGroupEgress').map(([, rule]) => rule.Properties).filter((rule) => JSON.stringify(rule.GroupId).includes(functionsGroup[0]));
      const rules = [...inline, ...separate];
      for (const rule of rules) {
        if (rule.CidrIp === '0.0.0.0/0') expect(rule.FromPort, JSON.stringify(rule)).toBe(443);
      }
      // TLS is on by default: the encrypted CQL port.
      expect(rules.filter((rule) => rule.FromPort === 9042)).toEqual([]);
      const scylla = rules.filter((rule) => rule.FromPort === 9142);
      if ((inputs as Record<string, string | undefined>).scyllaCidrs) expect(scylla.map((rule) => rule.CidrIp).sort()).toEqual(['10.10.0.0/16', '10.9.0.0/16']);
      else expect(scylla).toEqual([expect.objectContaining({ DestinationSecurityGroupId: MINIMUM.scyllaSecurityGroupId })]);
      expect(stack.database).toBeDefined();
    }
  });

  it('waits for Aurora (its instances) before migrating and for the throttled routes before the stage; the webhook registration after both', () => {
    const { stack, resources, ofType } = synth({ ...MINIMUM, telegramBotTokenSecretArn: ARN('bot') }, 'Order');
    const [[migrationId, migration]] = ofType('Custom::SchemaMigrations') as [[string, Resource]];
    const instances = ofType('AWS::RDS::DBInstance').map(([id]) => id);
    expect(instances).toHaveLength(2);
    for (const id of instances) expect(migration.DependsOn, id).toContain(id);
    const [[, cluster]] = ofType('AWS::RDS::DBCluster') as [[string, Resource]];
    expect(cluster.Properties.DeletionProtection).toBe(false);
    expect((resources as Record<string, any>)[ofType('AWS::RDS::DBCluster')[0]![0]].DeletionPolicy).toBe('Snapshot');
    const [[stageId, stage]] = ofType('AWS::ApiGatewayV2::Stage').filter(([, candidate]) => candidate.Properties.StageName === '$default') as [[string, Resource]];
    const routeIds = new Map(ofType('AWS::ApiGatewayV2::Route').map(([id, route]) => [route.Properties.RouteKey as string, id]));
    for (const key of Object.keys(stage.Properties.RouteSettings)) expect(stage.DependsOn, key).toContain(routeIds.get(key));
    const [[, registration]] = ofType('Custom::TelegramWebhook') as [[string, Resource]];
    expect(registration.DependsOn).toEqual(expect.arrayContaining([stageId, migrationId]));
    expect(stack.database).toBeDefined();
    const protectedCluster = synth({ ...MINIMUM, databaseDeletionProtection: 'true' }, 'Protected').ofType('AWS::RDS::DBCluster')[0]![1];
    expect(protectedCluster.Properties.DeletionProtection).toBe(true);
  });

  it('creates a VPC only when asked, and outputs the NAT address to allowlist on the cluster', () => {
    const created = synth({ ...MINIMUM, scyllaSecurityGroupId: undefined, scyllaCidrs: '203.0.113.0/28', vpcId: undefined, vpcAvailabilityZones: undefined, vpcPrivateSubnetIds: undefined, createVpc: 'true' }, 'NewVpc');
    expect(created.ofType('AWS::EC2::VPC')).toHaveLength(1);
    const outputs = Template.fromStack(created.stack).toJSON().Outputs as Record<string, { Value: unknown }>;
    const nat = Object.entries(outputs).filter(([name]) => name.startsWith('NatIp'));
    expect(nat).toHaveLength(1);
    expect(JSON.stringify(nat[0]![1].Value)).toContain('PublicIp');
    expect(synth(MINIMUM, 'Imported').ofType('AWS::EC2::VPC')).toHaveLength(0);
  });

  it('admits service tokens by their own audience and tells the JWT routes which it is', () => {
    const { ofType, variablesOf } = synth({ ...MINIMUM, jwtServiceAudience: 'chat-service' }, 'Service');
    const [[, authorizer]] = ofType('AWS::ApiGatewayV2::Authorizer').filter(([, candidate]) => candidate.Properties.AuthorizerType === 'JWT') as [[string, Resource]];
    expect(authorizer.Properties.JwtConfiguration.Audience).toEqual(['chat-app', 'chat-service']);
    for (const route of table) {
      expect(variablesOf(route.handler).JWT_SERVICE_AUDIENCE, route.handler).toBe(route.auth === 'jwt' ? 'chat-service' : undefined);
    }
    const without = synth(MINIMUM, 'NoService');
    expect(without.variablesOf('create-message').JWT_SERVICE_AUDIENCE).toBeUndefined();
  });

  it('without a Telegram bot, gives the reconciler no bot token; with one, only the reconciler reads it', () => {
    const without = synth(MINIMUM, 'NoTelegram');
    expect(without.variablesOf('reconcile').TELEGRAM_BOT_TOKEN_SECRET_ARN).toBeUndefined();
    const withBot = synth({ ...MINIMUM, telegramBotTokenSecretArn: ARN('bot'), telegramHistoryUrl: 'https://history.example.com', telegramHistoryTokenSecretArn: ARN('history') }, 'Telegram');
    expect(withBot.variablesOf('reconcile')).toMatchObject({
      TELEGRAM_BOT_TOKEN_SECRET_ARN: ARN('bot'),
      TELEGRAM_HISTORY_URL: 'https://history.example.com',
      TELEGRAM_HISTORY_TOKEN_SECRET_ARN: ARN('history'),
    });
    expect(JSON.stringify(withBot.resources)).not.toContain('TELEGRAM_HISTORY_TOKEN"');
    // The deploy registers the webhook (this API's URL) with the bot; without a bot there is nothing to register.
    expect(without.ofType('Custom::TelegramWebhook')).toHaveLength(0);
    const [[, registration]] = withBot.ofType('Custom::TelegramWebhook') as [[string, Resource]];
    const apiId = withBot.stack.getLogicalId(withBot.stack.api.node.defaultChild as never);
    expect(JSON.stringify(registration.Properties.WebhookUrl)).toContain(apiId);
    expect(JSON.stringify(registration.Properties.WebhookUrl)).toContain('/telegram/webhook');
    expect(withBot.variablesOf('register-telegram-webhook')).toMatchObject({ TELEGRAM_BOT_TOKEN_SECRET_ARN: ARN('bot'), TELEGRAM_WEBHOOK_SECRET_ARN: expect.anything() });
  });

  it('throttles each route without a JWT at API Gateway as the route table says, below the stage', () => {
    const { ofType } = synth(MINIMUM, 'Throttles');
    const [[, stage]] = ofType('AWS::ApiGatewayV2::Stage').filter(([, candidate]) => candidate.Properties.StageName === '$default') as [[string, Resource]];
    const throttled = table.filter((route) => route.throttle);
    expect(throttled.map((route) => route.handler).sort()).toEqual(table.filter((route) => route.auth !== 'jwt').map((route) => route.handler).sort());
    expect(Object.keys(stage.Properties.RouteSettings).sort()).toEqual(throttled.map((route) => `${route.method} ${route.path}`).sort());
    for (const route of throttled) {
      expect(stage.Properties.RouteSettings[`${route.method} ${route.path}`]).toEqual({ ThrottlingRateLimit: route.throttle!.rateLimit, ThrottlingBurstLimit: route.throttle!.burstLimit });
      expect(route.throttle!.rateLimit).toBeLessThan(stage.Properties.DefaultRouteSettings.ThrottlingRateLimit);
    }
    expect(exampleSettings().database.kind).toBe('aurora');
  });
});
