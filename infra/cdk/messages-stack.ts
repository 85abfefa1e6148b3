/**
 * The service in one stack: the HTTP API with its JWT authorizer, one Lambda per route of the route table,
 * the migration custom resource, secrets, network placement for reaching a Scylla cluster and PostgreSQL
 * in a VPC, log retention, real-time push (the changes bus, the WebSocket API and its fan-out: push.ts),
 * and the observability (alarms, dashboard, tracing) over the metrics the functions emit.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfnOutput, CustomResource, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpNoneAuthorizer, HttpStage, CorsHttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Provider } from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import {
  changeRecorders,
  fanOutFunction,
  indexMessagesFunction,
  migrateFunction,
  purgeChannelFunction,
  reconcileFunction,
  registerTelegramWebhookFunction,
  routeNamed,
  routes,
  storesOf,
  wsAuthorizerFunction,
  wsRoutesFunction,
  type Route,
} from '../../functions/routes.js';
import { FunctionRoles, roleKey, type SharedGrant } from './function-roles.js';
import { buildRealtimePush, CHANGE_EVENT_SOURCE, INDEX_DELIVERY, type RealtimePush } from './push.js';
import { OperationFunction, projectRoot, SERVICE_NAME, type StoreWiring, type Telemetry } from './operation-function.js';
import { Observability, pascal } from './observability.js';
import { DEFAULT_METRICS_NAMESPACE, type DeploySettings } from './settings.js';

/** The route table as the stack reads it: every field, nothing chosen by handler name. */
const httpRoutes: readonly Route[] = routes;

export interface MessagesStackProps extends StackProps {
  /** The deploy inputs, read and checked by readDeploySettings (settings.ts) before the stack is built. */
  settings: DeploySettings;
}

export { DEFAULT_METRICS_NAMESPACE };

/** The Bot API the functions that call Telegram use (said explicitly, so the deploy rehearsal can point it at a stand-in). */
const TELEGRAM_API_URL = 'https://api.telegram.org';

/** A hash of every migration file: a changed or added file changes it, and CloudFormation re-runs the resource. */
export function migrationsHash(): string {
  const hash = createHash('sha256');
  for (const folder of ['scylla', 'postgres']) {
    const dir = join(projectRoot, 'cql', folder);
    for (const file of readdirSync(dir).sort()) {
      hash.update(`${folder}/${file}\0`);
      hash.update(readFileSync(join(dir, file)));
    }
  }
  return hash.digest('hex');
}

export class MessagesStack extends Stack {
  readonly api: HttpApi;
  readonly functions = new Map<string, OperationFunction>();
  readonly observability: Observability;
  readonly telemetry: Telemetry;
  readonly purgeQueue: sqs.Queue;
  /** Every change the `changeRecorders` record is put here (source `messages`); a rule sends it to the fan-out. */
  readonly changesBus: events.EventBus;
  readonly push: RealtimePush;
  /** The search indexer the changes bus invokes with every message change. */
  readonly indexMessages: OperationFunction;
  /** Aurora PostgreSQL Serverless v2, when no existing database was given. */
  readonly database?: rds.DatabaseCluster;

  get alarmTopic(): sns.ITopic {
    return this.observability.alarmTopic;
  }

  /**
   * A new dead-letter queue (SQS, encrypted, TLS only, kept 14 days) with its alarm on any visible message
   * and its line on the dashboard. Every DLQ of this stack is made here, so none goes unwatched.
   */
  addDeadLetterQueue(id: string, purpose: string): sqs.Queue {
    return this.observability.addDeadLetterQueue(id, purpose);
  }

  constructor(scope: Construct, id: string, props: MessagesStackProps) {
    super(scope, id, props);
    const settings = props.settings;
    this.telemetry = { metricsNamespace: settings.metricsNamespace, tracing: settings.tracing };
    this.observability = new Observability(this, {
      alarmEmail: settings.alarmEmail,
      metricsNamespace: this.telemetry.metricsNamespace,
      service: SERVICE_NAME,
    });

    const vpc =
      settings.vpc.kind === 'existing'
      ? ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
          vpcId: settings.vpc.id,
          availabilityZones: settings.vpc.availabilityZones,
          privateSubnetIds: settings.vpc.privateSubnetIds,
        })
      : new ec2.Vpc(this, 'Vpc', {
          maxAzs: 2,
          natGateways: 1,
          subnetConfiguration: [
            { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
            { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
          ],
        });
    if (vpc instanceof ec2.Vpc) {
      vpc.addFlowLog('FlowLog', {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(this, 'VpcFlowLogs', { retention: settings.logRetentionDays })),
      });
      // A new VPC reaches Scylla at its public addresses through the NAT gateway: this is the address to
      // allowlist on the cluster (ScyllaDB Cloud: "Allowed IPs").
      for (const [index, eip] of vpc.node.findAll().filter((child): child is ec2.CfnEIP => child instanceof ec2.CfnEIP).entries()) {
        new CfnOutput(this, `NatIp${index + 1}`, { value: eip.attrPublicIp, description: 'The public address the functions reach Scylla from: allowlist it on the cluster' });
      }
    }
    // Egress only where each store is: 9042 to the Scylla nodes, 5432 to the database, 443 to the internet
    // (Upstash and Telegram live there; Secrets Manager, EventBridge and SQS are reached through the NAT too).
    const functionsSecurityGroup = new ec2.SecurityGroup(this, 'FunctionsSecurityGroup', {
      vpc,
      description: 'Message-store Lambdas: egress to Scylla (CQL), PostgreSQL (5432) and HTTPS',
      allowAllOutbound: false,
    });
    functionsSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'Upstash, Telegram, Secrets Manager, EventBridge, SQS');
    const allowTo = (name: string, port: number, securityGroupId: string | undefined, cidrs: string[]) => {
      if (securityGroupId) {
        const group = ec2.SecurityGroup.fromSecurityGroupId(this, `${name}SecurityGroup`, securityGroupId, { mutable: true });
        functionsSecurityGroup.addEgressRule(group, ec2.Port.tcp(port), `${name} (its security group)`);
        group.addIngressRule(functionsSecurityGroup, ec2.Port.tcp(port), `${name} from the message-store Lambdas`);
      }
      for (const cidr of cidrs) functionsSecurityGroup.addEgressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(port), `${name} at ${cidr}`);
    };
    allowTo('Scylla', settings.scylla.port, settings.scylla.securityGroupId, settings.scylla.cidrs);

    const imported = (id: string, arn: string) => secretsmanager.Secret.fromSecretCompleteArn(this, id, arn);
    this.database =
      settings.database.kind === 'aurora' ? this.createDatabase(vpc, functionsSecurityGroup, settings.logRetentionDays, settings.database.deletionProtection) : undefined;
    if (settings.database.kind === 'existing') allowTo('Database', 5432, settings.database.securityGroupId, settings.database.cidrs);
    const databaseSecret = this.database ? this.database.secret! : imported('DatabaseUrl', (settings.database as { secretArn: string }).secretArn);
    const scyllaSecrets = [
      ...(settings.scylla.credentialsSecretArn
        ? [{ envName: 'SCYLLA_CREDENTIALS_SECRET_ARN', secret: imported('ScyllaCredentials', settings.scylla.credentialsSecretArn) }]
        : []),
      ...(settings.scylla.caSecretArn ? [{ envName: 'SCYLLA_TLS_CA_SECRET_ARN', secret: imported('ScyllaCa', settings.scylla.caSecretArn) }] : []),
    ];
    const upstashToken = imported('UpstashToken', settings.upstash.tokenSecretArn);
    // Made here and given to Telegram by the webhook registration: no one types it in.
    const telegramWebhookSecret = new secretsmanager.Secret(this, 'TelegramWebhookSecret', {
      description: 'The secret_token given to Telegram setWebhook; checked on every webhook call',
      generateSecretString: { excludePunctuation: true, passwordLength: 48 },
    });

    const wiring: StoreWiring = {
      vpc,
      securityGroup: functionsSecurityGroup,
      environment: {
        scylla: {
          SCYLLA_CONTACT_POINTS: settings.scylla.contactPoints.join(','),
          SCYLLA_PORT: String(settings.scylla.port),
          ...(settings.scylla.tlsServerName ? { SCYLLA_TLS_SERVER_NAME: settings.scylla.tlsServerName } : {}),
          SCYLLA_LOCAL_DC: settings.scylla.localDc,
          SCYLLA_KEYSPACE: settings.scylla.keyspace,
          SCYLLA_REPLICATION: settings.scylla.replication,
          SCYLLA_TLS: String(settings.scylla.tls),
          SCYLLA_SERIAL_CONSISTENCY: 'LOCAL_SERIAL',
        },
        postgres: { DATABASE_TLS: String(settings.database.tls), DATABASE_TLS_CA: settings.database.ca },
        redis: { UPSTASH_REDIS_REST_URL: settings.upstash.url },
      },
      secrets: {
        scylla: scyllaSecrets,
        postgres: [{ envName: 'DATABASE_URL_SECRET_ARN', secret: databaseSecret }],
        redis: [{ envName: 'UPSTASH_REDIS_REST_TOKEN_SECRET_ARN', secret: upstashToken }],
      },
      extraSecrets: {
        telegramWebhookSecret: { envName: 'TELEGRAM_WEBHOOK_SECRET_ARN', secret: telegramWebhookSecret },
      },
    };
    const telemetry = this.telemetry;
    const logRetention = settings.logRetentionDays;

    const jwtIssuer = settings.jwt.issuer;
    const jwtAudience = settings.jwt.audience;
    // Service tokens are issued for an audience of their own (lib/auth/principal.ts): the API admits both.
    const authorizer = new HttpJwtAuthorizer('Jwt', jwtIssuer, {
      jwtAudience: [jwtAudience, ...(settings.jwt.serviceAudience ? [settings.jwt.serviceAudience] : [])],
    });
    const principalEnvironment: Record<string, string> = settings.jwt.serviceAudience ? { JWT_SERVICE_AUDIENCE: settings.jwt.serviceAudience } : {};

    this.api = new HttpApi(this, 'Api', {
      description: 'Message storage API',
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: ['*'],
        allowHeaders: ['authorization', 'content-type'],
        allowMethods: [CorsHttpMethod.ANY],
        maxAge: Duration.hours(1),
      },
    });
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logRetention });
    const stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 500, burstLimit: 1000 },
    });
    const cfnStage = stage.node.defaultChild as import('aws-cdk-lib/aws-apigatewayv2').CfnStage;
    // Routes without a JWT (no user to count per) carry their own throttle in the route table, below the
    // stage's: a flood of probes or webhook calls cannot spend the capacity of the authenticated routes.
    cfnStage.routeSettings = Object.fromEntries(
      httpRoutes
        .filter((route) => route.throttle)
        .map((route) => [`${route.method} ${route.path}`, { ThrottlingRateLimit: route.throttle!.rateLimit, ThrottlingBurstLimit: route.throttle!.burstLimit }]),
    );
    cfnStage.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        routeKey: '$context.routeKey',
        status: '$context.status',
        latencyMs: '$context.responseLatency',
        integrationError: '$context.integrationErrorMessage',
        authorizerError: '$context.authorizer.error',
        sourceIp: '$context.identity.sourceIp',
      }),
    };

    // Deleted channels are purged from this queue by the purge function; the routes it names send to it.
    const purgeDeadLetters = this.addDeadLetterQueue('PurgeDeadLetterQueue', 'channel purges that failed every delivery: the channel answers 404 but its data is still in the stores');
    this.purgeQueue = new sqs.Queue(this, 'PurgeQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // A paused purge (near its timeout) comes back once the invocation is surely over.
      visibilityTimeout: Duration.seconds(purgeChannelFunction.timeoutSeconds + 30),
      // A delete's request waits out writes in flight and the webhook's cached links (continuations and the
      // reconciler's re-requests send with DelaySeconds 0).
      deliveryDelay: Duration.seconds(purgeChannelFunction.delaySeconds),
      deadLetterQueue: { queue: purgeDeadLetters, maxReceiveCount: purgeChannelFunction.maxReceiveCount },
    });
    const enqueuesPurge = new Set<string>(purgeChannelFunction.enqueuedBy);

    // The functions that record changes publish them here; only they may put events on it.
    this.changesBus = new events.EventBus(this, 'ChangesBus', { description: 'Changes recorded by the message store, for real-time push' });
    const publishers = new Set(changeRecorders);
    const publishing = { CHANGES_BUS_NAME: this.changesBus.eventBusName };
    const publishes = (operation: OperationFunction) => this.changesBus.grantPutEventsTo(operation.function);

    const roles = new FunctionRoles(this);
    for (const route of httpRoutes) {
      // A write also reaches Redis for its rate limit.
      const stores = storesOf(route);
      const sendsPurge = enqueuesPurge.has(route.handler);
      const publisher = publishers.has(route.handler);
      const sharedGrants: SharedGrant[] = publisher ? ['changes-bus'] : [];
      const operation = new OperationFunction(this, pascal(route.handler), {
        handler: route.handler,
        stores,
        secrets: route.secrets,
        memoryMb: route.memoryMb,
        timeoutSeconds: route.timeoutSeconds,
        wiring,
        telemetry,
        logRetention,
        environment: {
          ...(sendsPurge ? { PURGE_QUEUE_URL: this.purgeQueue.queueUrl } : {}),
          ...(publisher ? publishing : {}),
          ...(route.auth === 'jwt' ? principalEnvironment : {}),
        },
        // Functions granted the same things share a role (publishing included); one with a grant of its own
        // keeps its own role.
        ...(sendsPurge ? {} : { role: roles.roleFor(roleKey(stores, route.secrets, sharedGrants), OperationFunction.needsVpc(stores)) }),
      });
      if (sendsPurge) this.purgeQueue.grantSendMessages(operation.function);
      if (publisher) publishes(operation);
      this.functions.set(route.handler, operation);
      const added = this.api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(`${pascal(route.handler)}Integration`, operation.function),
        authorizer: route.auth === 'jwt' ? authorizer : new HttpNoneAuthorizer(),
      });
      // The stage's RouteSettings name this route's key: CreateStage fails unless the route exists first.
      if (route.throttle) stage.node.addDependency(...added);
    }

    const migrate = new OperationFunction(this, 'Migrate', {
      ...migrateFunction,
      wiring,
      telemetry,
      logRetention,
      role: roles.roleFor(roleKey(migrateFunction.stores, migrateFunction.secrets), true),
      environment: { MIGRATIONS_DIR: '/var/task/cql' },
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        // The runner reads the migration files at run time: ship them beside the bundle.
        afterBundling: (inputDir: string, outputDir: string) => [`cp -r "${inputDir}/cql" "${outputDir}/cql"`],
      },
    });
    this.functions.set('migrate', migrate);
    const provider = new Provider(this, 'MigrationProvider', {
      onEventHandler: migrate.function,
      logGroup: new logs.LogGroup(this, 'MigrationProviderLogs', { retention: logRetention }),
    });
    const schemaMigrations = new CustomResource(this, 'SchemaMigrations', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::SchemaMigrations',
      properties: { MigrationsHash: migrationsHash() },
    });
    // The cluster is "created" minutes before its instances answer; the migration waits for all of Aurora
    // (instances and the rotation schedule are the cluster construct's children) and still retries a
    // database that is not ready (lib/migrations/sql-runner.ts).
    if (this.database) schemaMigrations.node.addDependency(this.database);

    const telegram = settings.telegram;
    const botToken = telegram ? imported('TelegramBotToken', telegram.botTokenSecretArn) : undefined;
    const historyToken = telegram?.historyTokenSecretArn ? imported('TelegramHistoryToken', telegram.historyTokenSecretArn) : undefined;
    // Scheduled runs that EventBridge could not deliver, and invocations that failed every asynchronous
    // attempt, land here (a later run resumes from its checkpoints; the message says which run was lost).
    const reconcileDeadLetters = this.addDeadLetterQueue('ReconcileDeadLetterQueue', 'reconciler runs that were never delivered or failed every attempt');
    const reconcile = new OperationFunction(this, 'Reconcile', {
      ...reconcileFunction,
      wiring,
      telemetry,
      logRetention,
      reservedConcurrency: 1,
      deadLetterQueue: reconcileDeadLetters,
      environment: {
        // The sweep of deleted channels whose purge stalled (or died in the dead-letter queue) re-requests it.
        PURGE_QUEUE_URL: this.purgeQueue.queueUrl,
        ...(botToken ? { TELEGRAM_BOT_TOKEN_SECRET_ARN: botToken.secretArn, TELEGRAM_API_URL: TELEGRAM_API_URL } : {}),
        ...(publishers.has(reconcileFunction.handler) ? publishing : {}),
        ...(telegram?.historyUrl ? { TELEGRAM_HISTORY_URL: telegram.historyUrl } : {}),
        ...(historyToken ? { TELEGRAM_HISTORY_TOKEN_SECRET_ARN: historyToken.secretArn } : {}),
      },
    });
    botToken?.grantRead(reconcile.function);
    historyToken?.grantRead(reconcile.function);
    this.purgeQueue.grantSendMessages(reconcile.function);
    if (publishers.has(reconcileFunction.handler)) publishes(reconcile);
    this.functions.set('reconcile', reconcile);
    new events.Rule(this, 'ReconcileSchedule', {
      description: 'Reconciles Telegram sync state, sweeps the search outbox, repairs reaction counters',
      schedule: events.Schedule.rate(Duration.minutes(reconcileFunction.scheduleMinutes)),
      targets: [new targets.LambdaFunction(reconcile.function, { retryAttempts: 0, deadLetterQueue: reconcileDeadLetters })],
    });

    // With a bot, the deploy points it at this API's webhook (setWebhook with the secret token) and a stack
    // delete unhooks it: no step by hand after `cdk deploy`.
    if (botToken) {
      const register = new OperationFunction(this, 'RegisterTelegramWebhook', {
        ...registerTelegramWebhookFunction,
        wiring,
        telemetry,
        logRetention,
        environment: { TELEGRAM_BOT_TOKEN_SECRET_ARN: botToken.secretArn, TELEGRAM_API_URL: TELEGRAM_API_URL },
      });
      botToken.grantRead(register.function);
      this.functions.set(registerTelegramWebhookFunction.handler, register);
      const registration = new Provider(this, 'TelegramWebhookProvider', {
        onEventHandler: register.function,
        logGroup: new logs.LogGroup(this, 'TelegramWebhookProviderLogs', { retention: logRetention }),
      });
      const webhookRegistration = new CustomResource(this, 'TelegramWebhookRegistration', {
        serviceToken: registration.serviceToken,
        resourceType: 'Custom::TelegramWebhook',
        properties: {
          WebhookUrl: `${this.api.apiEndpoint}${routeNamed('telegram-webhook').path}`,
          // A replaced webhook secret changes this, so the registration runs again with the new one.
          WebhookSecretArn: telegramWebhookSecret.secretArn,
        },
      });
      // Telegram delivers at once: the route (its stage) and the schema must be there first.
      webhookRegistration.node.addDependency(stage, schemaMigrations);
    }

    // A purge paused near its timeout sends its continuation to its own queue.
    const purge = new OperationFunction(this, 'PurgeChannel', {
      ...purgeChannelFunction,
      wiring,
      telemetry,
      logRetention,
      environment: { PURGE_QUEUE_URL: this.purgeQueue.queueUrl },
    });
    this.purgeQueue.grantSendMessages(purge.function);
    purge.function.addEventSource(new SqsEventSource(this.purgeQueue, { batchSize: purgeChannelFunction.batchSize, reportBatchItemFailures: true }));
    this.functions.set(purgeChannelFunction.handler, purge);

    this.push = buildRealtimePush(this, {
      wiring,
      telemetry,
      logRetention,
      roles,
      jwtIssuer,
      jwtAudience,
      changesBus: this.changesBus,
      addDeadLetterQueue: (id, purpose) => this.addDeadLetterQueue(id, purpose),
      accountLogRole: settings.apiGatewayCloudWatchRole,
    });
    this.functions.set(wsAuthorizerFunction.handler, this.push.authorizer);
    this.functions.set(wsRoutesFunction.handler, this.push.routes);
    this.functions.set(fanOutFunction.handler, this.push.fanOut);

    // The search indexer: the bus's other consumer, for message changes only. At most once, like the fan-out;
    // the reconciler's sweep of the search outbox applies whatever it missed, so nothing waits on it.
    const indexDeadLetters = this.addDeadLetterQueue(
      'IndexMessagesDeadLetterQueue',
      'message changes the search indexer never applied (the reconciler sweep applies them from the search outbox; many here means the indexer fails)',
    );
    this.indexMessages = new OperationFunction(this, 'IndexMessages', {
      ...indexMessagesFunction,
      wiring,
      telemetry,
      logRetention,
      deadLetterQueue: indexDeadLetters,
      retryAttempts: INDEX_DELIVERY.functionRetryAttempts,
      maxEventAge: INDEX_DELIVERY.maxEventAge,
    });
    new events.Rule(this, 'MessageChangesToIndexer', {
      description: 'Every message change, to the search indexer',
      eventBus: this.changesBus,
      eventPattern: { source: [CHANGE_EVENT_SOURCE], detailType: indexMessagesFunction.changeTypes },
      targets: [
        new targets.LambdaFunction(this.indexMessages.function, {
          retryAttempts: INDEX_DELIVERY.targetRetryAttempts,
          maxEventAge: INDEX_DELIVERY.maxEventAge,
          deadLetterQueue: indexDeadLetters,
        }),
      ],
    });
    this.functions.set(indexMessagesFunction.handler, this.indexMessages);
    // Every recorder named in the route table publishes: a name this stack did not deploy is a mistake.
    const unwired = changeRecorders.filter((handler) => !this.functions.has(handler));
    if (unwired.length > 0) throw new Error(`changeRecorders names functions this stack does not deploy: ${unwired.join(', ')}`);

    this.observability.watch({
      api: this.api,
      routes: httpRoutes,
      functions: this.functions,
      reconcile,
      purge: { function: purge, queue: this.purgeQueue },
      push: { fanOut: this.push.fanOut },
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint });
    new CfnOutput(this, 'ChangesBusName', { value: this.changesBus.eventBusName, description: 'The EventBridge bus every recorded change is put on (source messages)' });
    new CfnOutput(this, 'TelegramWebhookSecretArn', { value: telegramWebhookSecret.secretArn });
  }

  /**
   * The default PostgreSQL: Aurora PostgreSQL Serverless v2 in the private subnets, encrypted, its
   * credentials generated into a secret that Secrets Manager rotates every 30 days (a container whose copy
   * went stale re-reads it: lib/postgres/pool.ts), reachable on 5432 from the functions only. A final
   * snapshot keeps a `cdk destroy` from taking the data with it; deletion protection is an input.
   */
  private createDatabase(vpc: ec2.IVpc, functions: ec2.SecurityGroup, logRetention: logs.RetentionDays, deletionProtection: boolean): rds.DatabaseCluster {
    const securityGroup = new ec2.SecurityGroup(this, 'DatabaseSecurityGroup', {
      vpc,
      description: 'Aurora PostgreSQL of the message store: 5432 from its Lambdas only',
      allowAllOutbound: false,
    });
    // A fixed identifier names the log group before the cluster exists, so it is made here with its retention
    // (RDS would otherwise create it without one; CDK's retention setting costs a custom-resource Lambda).
    // RDS identifiers: a letter first, letters, digits and single hyphens, no hyphen last, at most 63.
    const base = this.stackName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^[^a-z]+/, '').slice(0, 50).replace(/-+$/, '');
    const clusterIdentifier = `${base || 'chat'}-messages`;
    const databaseLogs = new logs.LogGroup(this, 'DatabaseLogs', {
      logGroupName: `/aws/rds/cluster/${clusterIdentifier}/postgresql`,
      retention: logRetention,
      // Deleted with the stack (and with a rolled-back first deploy, so a retry does not find it "already exists").
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const cluster = new rds.DatabaseCluster(this, 'Database', {
      clusterIdentifier,
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_17_7 }),
      credentials: rds.Credentials.fromGeneratedSecret('messages', { excludeCharacters: ' %+~`#$&*()|[]{}:;<>?!\'/@"\\' }),
      defaultDatabaseName: 'messages',
      writer: rds.ClusterInstance.serverlessV2('Writer', { autoMinorVersionUpgrade: true }),
      readers: [rds.ClusterInstance.serverlessV2('Reader', { scaleWithWriter: true, autoMinorVersionUpgrade: true })],
      serverlessV2MinCapacity: 0.5,
      serverlessV2MaxCapacity: 16,
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [securityGroup],
      storageEncrypted: true,
      iamAuthentication: false,
      // Off by default so a failed first deploy can roll back (a protected cluster cannot be deleted, and the
      // stack would stop in ROLLBACK_FAILED); turn it on with databaseDeletionProtection=true once deployed.
      // Removal always keeps a final snapshot.
      deletionProtection,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      backup: { retention: Duration.days(7) },
      cloudwatchLogsExports: ['postgresql'],
      parameters: { 'rds.force_ssl': '1' },
    });
    cluster.node.addDependency(databaseLogs);
    securityGroup.addIngressRule(functions, ec2.Port.tcp(5432), 'PostgreSQL from the message-store Lambdas');
    functions.addEgressRule(securityGroup, ec2.Port.tcp(5432), 'Aurora PostgreSQL');
    // The rotation Lambda runs in the private subnets and talks to the database and Secrets Manager.
    cluster.addRotationSingleUser({ automaticallyAfter: Duration.days(30), vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } });
    new CfnOutput(this, 'DatabaseEndpoint', { value: cluster.clusterEndpoint.hostname, description: 'Aurora PostgreSQL writer endpoint' });
    return cluster;
  }
}
