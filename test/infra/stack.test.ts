/** CDK assertions on the synthesised template (bundling skipped here; CI runs one real `cdk synth`). */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  fanOutFunction,
  migrateFunction,
  purgeChannelFunction,
  reconcileFunction,
  registerTelegramWebhookFunction,
  routes,
  storesOf,
  wsAuthorizerFunction,
  wsRoutesFunction,
  type BackgroundFunction,
  type Route,
} from '../../functions/routes.js';
import { MessagesStack, migrationsHash } from '../../infra/cdk/messages-stack.js';
import { exampleSettings } from './example-settings.js';

let template: Template;
let stack: MessagesStack;
const table: readonly Route[] = routes;
/** Every function with the stores it must be wired to: a route's `storesOf`, a background function's stores. */
const everyFunction: (BackgroundFunction & { wired: string[] })[] = [
  ...table.map((route) => ({ ...route, wired: storesOf(route) })),
  ...[migrateFunction, reconcileFunction, purgeChannelFunction, wsAuthorizerFunction, wsRoutesFunction, fanOutFunction, registerTelegramWebhookFunction].map((fn) => ({ ...fn, wired: fn.stores })),
];

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  stack = new MessagesStack(app, 'Test', {
    settings: SETTINGS,
  });
  template = Template.fromStack(stack);
});

/** How each store's secret appears in a grant: the complete ARN given as input, or the logical id of one made here. */
const SETTINGS = exampleSettings();
const SECRET_OF_STORE: Record<string, (resource: string) => boolean> = {
  scylla: (resource) => resource === SETTINGS.scylla.credentialsSecretArn,
  'scylla-ca': (resource) => resource === SETTINGS.scylla.caSecretArn,
  // The Aurora cluster's generated secret, attached to the cluster.
  postgres: (resource) => resource.startsWith('DatabaseSecretAttachment'),
  redis: (resource) => resource === SETTINGS.upstash.tokenSecretArn,
  telegramWebhookSecret: (resource) => resource.startsWith('TelegramWebhookSecret'),
  'telegram-bot': (resource) => resource === SETTINGS.telegram?.botTokenSecretArn,
};
/** Secrets a function reads beyond its stores' and the route table's `secrets`. */
const OWN_SECRETS: Record<string, string[]> = { reconcile: ['telegram-bot'], 'register-telegram-webhook': ['telegram-bot'] };

function logicalIdOf(handler: string): string {
  const fn = stack.functions.get(handler)!.function;
  return stack.getLogicalId(fn.node.defaultChild as never);
}

describe('MessagesStack', () => {
  it('routes every entry of the route table, with the JWT authorizer exactly where the table says', () => {
    // The HTTP API's routes (the WebSocket API's are in push.test.ts).
    const httpApi = { Ref: stack.getLogicalId(stack.api.node.defaultChild as never) };
    const routeResources = template.findResources('AWS::ApiGatewayV2::Route', { Properties: { ApiId: httpApi } });
    const byKey = new Map(Object.values(routeResources).map((resource) => [resource.Properties.RouteKey, resource.Properties]));
    expect(byKey.size).toBe(table.length);
    for (const route of table) {
      const deployed = byKey.get(`${route.method} ${route.path}`);
      expect(deployed, `${route.method} ${route.path}`).toBeDefined();
      expect(deployed.AuthorizationType).toBe(route.auth === 'jwt' ? 'JWT' : 'NONE');
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: SETTINGS.jwt.issuer, Audience: [SETTINGS.jwt.audience, SETTINGS.jwt.serviceAudience] },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
    });
  });

  it('deploys one Node 22 arm64 function per operation with the route table memory and timeout', () => {
    for (const route of everyFunction) {
      const properties = template.toJSON().Resources[logicalIdOf(route.handler)].Properties;
      expect(properties.Runtime).toBe('nodejs22.x');
      expect(properties.Architectures).toEqual(['arm64']);
      expect(properties.MemorySize).toBe(route.memoryMb);
      expect(properties.Timeout).toBe(route.timeoutSeconds);
      // Source maps ship beside each bundle, without the flag: it cost 14–43 ms of CPU per cold start.
      expect(properties.Environment.Variables.NODE_OPTIONS).toBeUndefined();
      expect(Boolean(properties.VpcConfig), route.handler).toBe(route.stores.includes('scylla') || route.stores.includes('postgres'));
    }
  });

  it('hands each function the settings and secrets of its stores and of its declared secrets, and no others', () => {
    const resources = template.toJSON().Resources;
    for (const route of everyFunction) {
      const variables = resources[logicalIdOf(route.handler)].Properties.Environment.Variables;
      expect('SCYLLA_CREDENTIALS_SECRET_ARN' in variables, route.handler).toBe(route.wired.includes('scylla'));
      expect('DATABASE_URL_SECRET_ARN' in variables, route.handler).toBe(route.wired.includes('postgres'));
      expect('UPSTASH_REDIS_REST_TOKEN_SECRET_ARN' in variables, route.handler).toBe(route.wired.includes('redis'));
      const role = resources[logicalIdOf(route.handler)].Properties.Role['Fn::GetAtt'][0];
      const policies = Object.values(resources).filter(
        (resource: any) => resource.Type === 'AWS::IAM::Policy' && resource.Properties.Roles.some((r: any) => r.Ref === role),
      ) as any[];
      const secretReads = policies
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
        .filter((statement: any) => [statement.Action].flat().includes('secretsmanager:GetSecretValue'));
      const readable = secretReads
        .flatMap((statement: any) => [statement.Resource].flat())
        .map((resource: any) => (typeof resource === 'string' ? resource : String(resource.Ref)))
        .map((ref: string) => Object.entries(SECRET_OF_STORE).find(([, matches]) => matches(ref))?.[0] ?? ref)
        .sort();
      const scyllaCa = route.wired.includes('scylla') && SETTINGS.scylla.caSecretArn ? ['scylla-ca'] : [];
      expect(readable, route.handler).toEqual([...route.wired, ...scyllaCa, ...route.secrets, ...(OWN_SECRETS[route.handler] ?? [])].sort());
    }
  });

  it('gives TELEGRAM_WEBHOOK_SECRET_ARN to exactly the functions whose route table entry declares the secret', () => {
    const resources = template.toJSON().Resources;
    const declaring = everyFunction.filter((fn) => fn.secrets.includes('telegramWebhookSecret')).map((fn) => fn.handler);
    expect(declaring.length).toBeGreaterThan(0);
    for (const fn of everyFunction) {
      const variables = resources[logicalIdOf(fn.handler)].Properties.Environment.Variables;
      expect('TELEGRAM_WEBHOOK_SECRET_ARN' in variables, fn.handler).toBe(declaring.includes(fn.handler));
    }
  });

  it('reads the secret declaration from the table, not the handler name', () => {
    const secretsOf = (handler: string) => table.find((route) => route.handler === handler)!.secrets;
    const saved = { webhook: secretsOf('telegram-webhook'), channel: secretsOf('get-channel') };
    const set = (handler: string, secrets: Route['secrets']) => Object.assign(table.find((route) => route.handler === handler)!, { secrets });
    let moved: MessagesStack;
    try {
      set('telegram-webhook', []);
      set('get-channel', ['telegramWebhookSecret']);
      moved = new MessagesStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Moved', {
        settings: exampleSettings(),
      });
    } finally {
      set('telegram-webhook', saved.webhook);
      set('get-channel', saved.channel);
    }
    const resources = Template.fromStack(moved).toJSON().Resources;
    const variablesOf = (handler: string) =>
      resources[moved.getLogicalId(moved.functions.get(handler)!.function.node.defaultChild as never)].Properties.Environment.Variables;
    expect(variablesOf('get-channel').TELEGRAM_WEBHOOK_SECRET_ARN).toBeDefined();
    expect(variablesOf('telegram-webhook').TELEGRAM_WEBHOOK_SECRET_ARN).toBeUndefined();
  });

  it('wires Redis (URL, token secret and its read grant) into every write route, for its rate limit', () => {
    const resources = template.toJSON().Resources;
    const writes = table.filter((route) => route.write);
    expect(writes.length).toBeGreaterThan(0);
    for (const route of writes) {
      const properties = resources[logicalIdOf(route.handler)].Properties;
      expect(properties.Environment.Variables.UPSTASH_REDIS_REST_URL, route.handler).toBe(SETTINGS.upstash.url);
      expect(properties.Environment.Variables.UPSTASH_REDIS_REST_TOKEN_SECRET_ARN, route.handler).toBe(SETTINGS.upstash.tokenSecretArn);
      const role = properties.Role['Fn::GetAtt'][0];
      const grants = Object.values(resources)
        .filter((resource: any) => resource.Type === 'AWS::IAM::Policy' && resource.Properties.Roles.some((r: any) => r.Ref === role))
        .flatMap((policy: any) => policy.Properties.PolicyDocument.Statement)
        .filter((statement: any) => [statement.Action].flat().includes('secretsmanager:GetSecretValue'))
        .flatMap((statement: any) => [statement.Resource].flat());
      expect(grants, route.handler).toContain(SETTINGS.upstash.tokenSecretArn);
    }
  });

  it('deploys each route to the entry file that serves that very route table entry', async () => {
    for (const route of table) {
      const module = (await import(`../../functions/${route.handler}.ts`)) as { handler: { route: Route } };
      expect(module.handler.route, route.handler).toBe(route);
    }
  });

  it('runs the migrations as a custom resource that re-runs when any migration file changes', () => {
    template.hasResourceProperties('Custom::SchemaMigrations', { MigrationsHash: migrationsHash() });
    expect(migrationsHash()).toMatch(/^[0-9a-f]{64}$/);
    const migrate = template.toJSON().Resources[logicalIdOf('migrate')].Properties;
    expect(migrate.Environment.Variables.MIGRATIONS_DIR).toBe('/var/task/cql');
  });

  it('runs the reconciler on a schedule, one at a time, with the Telegram settings', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: `rate(${reconcileFunction.scheduleMinutes} minutes)`,
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalIdOf('reconcile'), 'Arn'] } })],
    });
    const reconciler = template.toJSON().Resources[logicalIdOf('reconcile')].Properties;
    expect(reconciler.ReservedConcurrentExecutions).toBe(1);
    expect(reconciler.Timeout).toBe(reconcileFunction.timeoutSeconds);
    expect(reconciler.Environment.Variables.TELEGRAM_BOT_TOKEN_SECRET_ARN).toBeDefined();
  });

  it('keeps logs for a bounded time and the functions egress only to the stores', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThanOrEqual(table.length + 1);
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(30);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: Match.arrayWith([Match.objectLike({ FromPort: 9142, ToPort: 9142, CidrIp: SETTINGS.scylla.cidrs[0] })]),
    });
  });
});
