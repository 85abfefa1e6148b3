/**
 * The service in one stack: the HTTP API with its JWT authorizer, one Lambda per route of the route table,
 * the migration custom resource, secrets, network placement for reaching a Scylla cluster and PostgreSQL
 * in a VPC, and log retention.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfnOutput, CfnParameter, CustomResource, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpNoneAuthorizer, HttpStage, CorsHttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Provider } from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { migrateFunction, reconcileFunction, routes } from '../../functions/routes.js';
import { OperationFunction, projectRoot, type StoreWiring } from './operation-function.js';

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
  };
}

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
  alarmTopic!: sns.Topic;

  /**
   * Alarms to one SNS topic: any function error or throttle, API 5xx and 4xx surges, and any reconciler
   * failure (its errors, or no successful run for 30 minutes).
   */
  private addAlarms(email: string | undefined, reconcile: OperationFunction): void {
    const key = new kms.Key(this, 'AlarmTopicKey', { enableKeyRotation: true, description: 'Encrypts the alarm topic' });
    key.grantEncryptDecrypt(new iam.ServicePrincipal('cloudwatch.amazonaws.com'));
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Message store alarms', masterKey: key, enforceSSL: true });
    if (email) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(email));
    const action = new cloudwatchActions.SnsAction(this.alarmTopic);
    const alarm = (id: string, metric: cloudwatch.IMetric, threshold: number, description: string, missing = cloudwatch.TreatMissingData.NOT_BREACHING) => {
      const created = new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: missing,
        alarmDescription: description,
      });
      created.addAlarmAction(action);
      return created;
    };
    for (const [handler, operation] of this.functions) {
      const period = Duration.minutes(5);
      alarm(`${pascal(handler)}Errors`, operation.function.metricErrors({ period, statistic: 'Sum' }), 1, `${handler}: invocation errors`);
      alarm(`${pascal(handler)}Throttles`, operation.function.metricThrottles({ period, statistic: 'Sum' }), 1, `${handler}: throttled invocations`);
    }
    alarm('Api5xx', this.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }), 5, 'API answered 5xx (stores down or a bug)');
    alarm('Api4xxSurge', this.api.metricClientError({ period: Duration.minutes(5), statistic: 'Sum' }), 1000, 'Unusual number of 4xx (abuse or a broken client)');
    new cloudwatch.Alarm(this, 'ReconcilerNotRunning', {
      metric: reconcile.function.metricInvocations({ period: Duration.minutes(30), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription: 'The scheduled reconciler has not run for 30 minutes',
    }).addAlarmAction(action);
  }

  constructor(scope: Construct, id: string, props: MessagesStackProps) {
    super(scope, id, props);
    const settings = props.settings;
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
    };
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

    for (const route of routes) {
      const operation = new OperationFunction(this, pascal(route.handler), {
        handler: route.handler,
        stores: route.stores,
        memoryMb: route.memoryMb,
        timeoutSeconds: route.timeoutSeconds,
        wiring,
        logRetention,
        environment: route.handler === 'telegram-webhook' ? { TELEGRAM_WEBHOOK_SECRET_ARN: telegramWebhookSecret.secretArn } : {},
      });
      this.functions.set(route.handler, operation);
      this.api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(`${pascal(route.handler)}Integration`, operation.function),
        authorizer: route.auth === 'jwt' ? authorizer : new HttpNoneAuthorizer(),
      });
    }
    const webhook = this.functions.get('telegram-webhook');
    if (webhook) telegramWebhookSecret.grantRead(webhook.function);

    const migrate = new OperationFunction(this, 'Migrate', {
      ...migrateFunction,
      wiring,
      logRetention,
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
    const reconcile = new OperationFunction(this, 'Reconcile', {
      ...reconcileFunction,
      wiring,
      logRetention,
      reservedConcurrency: 1,
      environment: {
        TELEGRAM_BOT_TOKEN_SECRET_ARN: botToken.secretArn,
        ...(settings.telegramHistoryUrl ? { TELEGRAM_HISTORY_URL: settings.telegramHistoryUrl } : {}),
      },
    });
    botToken.grantRead(reconcile.function);
    this.functions.set('reconcile', reconcile);
    new events.Rule(this, 'ReconcileSchedule', {
      description: 'Reconciles Telegram sync state, drains the search backlog, repairs reaction counters',
      schedule: events.Schedule.rate(Duration.minutes(reconcileFunction.scheduleMinutes)),
      targets: [new targets.LambdaFunction(reconcile.function, { retryAttempts: 0 })],
    });

    this.addAlarms(settings.alarmEmail, reconcile);

    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint });
    new CfnOutput(this, 'TelegramWebhookSecretArn', { value: telegramWebhookSecret.secretArn });
  }
}

function pascal(kebab: string): string {
  return kebab.replace(/(^|-)(\w)/g, (_, __, char: string) => char.toUpperCase());
}
