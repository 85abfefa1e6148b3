/**
 * The service in one stack: the HTTP API with its JWT authorizer, one Lambda per route of the route table,
 * the migration custom resource, secrets, network placement for reaching a Scylla cluster and PostgreSQL
 * in a VPC, log retention, real-time push (the changes bus, the WebSocket API and its fan-out: push.ts),
 * and the observability (alarms, dashboard, tracing) over the metrics the functions emit.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfnOutput, CfnParameter, CustomResource, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpNoneAuthorizer, HttpStage, CorsHttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Provider } from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import {
  changeRecorders,
  fanOutFunction,
  migrateFunction,
  purgeChannelFunction,
  reconcileFunction,
  routes,
  storesOf,
  wsAuthorizerFunction,
  wsRoutesFunction,
  type Route,
} from '../../functions/routes.js';
import { FunctionRoles, roleKey, type SharedGrant } from './function-roles.js';
import { buildRealtimePush, type RealtimePush } from './push.js';
import { OperationFunction, projectRoot, SERVICE_NAME, type StoreWiring, type Telemetry } from './operation-function.js';
import { Observability, pascal } from './observability.js';

/** The route table as the stack reads it: every field, nothing chosen by handler name. */
const httpRoutes: readonly Route[] = routes;

export interface MessagesStackProps extends StackProps {
  /** From context; CloudFormation parameters are used where a value is not given. */
  settings: {
    jwtIssuer?: string;
    jwtAudience?: string;
    vpcId?: string;
    vpcAvailabilityZones?: string[];
    vpcPrivateSubnetIds?: string[];
    scyllaContactPoints?: string;
    scyllaLocalDc?: string;
    scyllaKeyspace?: string;
    scyllaReplication?: string;
    scyllaSecurityGroupId?: string;
    scyllaCredentialsSecretArn?: string;
    databaseSecretArn?: string;
    databaseSecurityGroupId?: string;
    upstashUrl?: string;
    upstashTokenSecretArn?: string;
    telegramBotTokenSecretArn?: string;
    telegramHistoryUrl?: string;
    alarmEmail?: string;
    logRetentionDays?: number;
    /** METRICS_NAMESPACE of every function, and the namespace the alarms and dashboard read. Default `ChatMessages`. */
    metricsNamespace?: string;
    /** Active X-Ray tracing and TRACING_ENABLED=true on every function. Default true. */
    tracing?: boolean;
    /**
     * Set API Gateway's account-wide CloudWatch Logs role, which the WebSocket stage's access logs need.
     * Default true; false when the account (this region) already has one managed elsewhere.
     */
    apiGatewayCloudWatchRole?: boolean;
  };
}

export const DEFAULT_METRICS_NAMESPACE = 'ChatMessages';

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
    this.telemetry = { metricsNamespace: settings.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE, tracing: settings.tracing ?? true };
    this.observability = new Observability(this, {
      alarmEmail: settings.alarmEmail,
      metricsNamespace: this.telemetry.metricsNamespace,
      service: SERVICE_NAME,
    });
    const setting = (name: string, value: string | undefined, description: string) =>
      value ?? new CfnParameter(this, name, { type: 'String', description }).valueAsString;

    const vpc =
      settings.vpcId && settings.vpcPrivateSubnetIds && settings.vpcAvailabilityZones
        ? ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
            vpcId: settings.vpcId,
            availabilityZones: settings.vpcAvailabilityZones,
            privateSubnetIds: settings.vpcPrivateSubnetIds,
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
        destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(this, 'VpcFlowLogs', { retention: (settings.logRetentionDays ?? 30) as logs.RetentionDays })),
      });
    }
    const functionsSecurityGroup = new ec2.SecurityGroup(this, 'FunctionsSecurityGroup', {
      vpc,
      description: 'Message-store Lambdas: egress to Scylla (9042), PostgreSQL (5432) and HTTPS',
      allowAllOutbound: false,
    });
    functionsSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(9042), 'Scylla CQL');
    functionsSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(5432), 'PostgreSQL');
    functionsSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'Upstash, Secrets Manager, Telegram');
    if (settings.scyllaSecurityGroupId) {
      ec2.SecurityGroup.fromSecurityGroupId(this, 'ScyllaSecurityGroup', settings.scyllaSecurityGroupId).addIngressRule(
        functionsSecurityGroup,
        ec2.Port.tcp(9042),
        'CQL from the message-store Lambdas',
      );
    }
    if (settings.databaseSecurityGroupId) {
      ec2.SecurityGroup.fromSecurityGroupId(this, 'DatabaseSecurityGroup', settings.databaseSecurityGroupId).addIngressRule(
        functionsSecurityGroup,
        ec2.Port.tcp(5432),
        'PostgreSQL from the message-store Lambdas',
      );
    }

    const importedOrNew = (id: string, arn: string | undefined, description: string, generate?: secretsmanager.SecretStringGenerator) =>
      arn
        ? secretsmanager.Secret.fromSecretCompleteArn(this, id, arn)
        : new secretsmanager.Secret(this, id, { description, generateSecretString: generate });
    const scyllaCredentials = importedOrNew(
      'ScyllaCredentials',
      settings.scyllaCredentialsSecretArn,
      'Scylla credentials as {"username","password"}: set them to the cluster role of this service',
      { secretStringTemplate: JSON.stringify({ username: 'messages' }), generateStringKey: 'password', excludePunctuation: true },
    );
    const databaseUrl = importedOrNew('DatabaseUrl', settings.databaseSecretArn, 'PostgreSQL: an RDS secret (JSON) or a postgres:// URL');
    const upstashToken = importedOrNew('UpstashToken', settings.upstashTokenSecretArn, 'The Upstash Redis REST token');
    const telegramWebhookSecret = new secretsmanager.Secret(this, 'TelegramWebhookSecret', {
      description: 'The secret_token given to Telegram setWebhook; checked on every webhook call',
      generateSecretString: { excludePunctuation: true, passwordLength: 48 },
    });

    const wiring: StoreWiring = {
      vpc,
      securityGroup: functionsSecurityGroup,
      environment: {
        scylla: {
          SCYLLA_CONTACT_POINTS: setting('ScyllaContactPoints', settings.scyllaContactPoints, 'Comma-separated Scylla contact points'),
          SCYLLA_LOCAL_DC: setting('ScyllaLocalDc', settings.scyllaLocalDc, 'The Scylla data centre next to these Lambdas'),
          SCYLLA_KEYSPACE: settings.scyllaKeyspace ?? 'chat',
          SCYLLA_REPLICATION: settings.scyllaReplication ?? `${settings.scyllaLocalDc ?? 'datacenter1'}:3`,
        },
        postgres: {},
        redis: { UPSTASH_REDIS_REST_URL: setting('UpstashUrl', settings.upstashUrl, 'The Upstash Redis REST URL') },
      },
      secrets: {
        scylla: [{ envName: 'SCYLLA_CREDENTIALS_SECRET_ARN', secret: scyllaCredentials }],
        postgres: [{ envName: 'DATABASE_URL_SECRET_ARN', secret: databaseUrl }],
        redis: [{ envName: 'UPSTASH_REDIS_REST_TOKEN_SECRET_ARN', secret: upstashToken }],
      },
      extraSecrets: {
        telegramWebhookSecret: { envName: 'TELEGRAM_WEBHOOK_SECRET_ARN', secret: telegramWebhookSecret },
      },
    };
    const telemetry = this.telemetry;
    const logRetention = (settings.logRetentionDays ?? 30) as logs.RetentionDays;

    const jwtIssuer = setting('JwtIssuer', settings.jwtIssuer, 'The JWT issuer URL (its /.well-known/openid-configuration names the JWKS)');
    const jwtAudience = setting('JwtAudience', settings.jwtAudience, 'The JWT audience this API accepts');
    const authorizer = new HttpJwtAuthorizer('Jwt', jwtIssuer, { jwtAudience: [jwtAudience] });

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
        environment: { ...(sendsPurge ? { PURGE_QUEUE_URL: this.purgeQueue.queueUrl } : {}), ...(publisher ? publishing : {}) },
        // Functions granted the same things share a role (publishing included); one with a grant of its own
        // keeps its own role.
        ...(sendsPurge ? {} : { role: roles.roleFor(roleKey(stores, route.secrets, sharedGrants), OperationFunction.needsVpc(stores)) }),
      });
      if (sendsPurge) this.purgeQueue.grantSendMessages(operation.function);
      if (publisher) publishes(operation);
      this.functions.set(route.handler, operation);
      this.api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(`${pascal(route.handler)}Integration`, operation.function),
        authorizer: route.auth === 'jwt' ? authorizer : new HttpNoneAuthorizer(),
      });
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
    new CustomResource(this, 'SchemaMigrations', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::SchemaMigrations',
      properties: { MigrationsHash: migrationsHash() },
    });

    const botToken = importedOrNew('TelegramBotToken', settings.telegramBotTokenSecretArn, 'The Telegram bot token (for getWebhookInfo)');
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
        TELEGRAM_BOT_TOKEN_SECRET_ARN: botToken.secretArn,
        ...(publishers.has(reconcileFunction.handler) ? publishing : {}),
        ...(settings.telegramHistoryUrl ? { TELEGRAM_HISTORY_URL: settings.telegramHistoryUrl } : {}),
      },
    });
    botToken.grantRead(reconcile.function);
    this.purgeQueue.grantSendMessages(reconcile.function);
    if (publishers.has(reconcileFunction.handler)) publishes(reconcile);
    this.functions.set('reconcile', reconcile);
    new events.Rule(this, 'ReconcileSchedule', {
      description: 'Reconciles Telegram sync state, drains the search backlog, repairs reaction counters',
      schedule: events.Schedule.rate(Duration.minutes(reconcileFunction.scheduleMinutes)),
      targets: [new targets.LambdaFunction(reconcile.function, { retryAttempts: 0, deadLetterQueue: reconcileDeadLetters })],
    });

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
      accountLogRole: settings.apiGatewayCloudWatchRole ?? true,
    });
    this.functions.set(wsAuthorizerFunction.handler, this.push.authorizer);
    this.functions.set(wsRoutesFunction.handler, this.push.routes);
    this.functions.set(fanOutFunction.handler, this.push.fanOut);
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
}
