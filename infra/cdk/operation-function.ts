/**
 * One construct fixes what every Lambda of this service shares: Node 22 on arm64, esbuild bundling (ESM,
 * minified, source maps), a log group with retention, VPC placement when it reaches Scylla or PostgreSQL,
 * and exactly the secrets and settings of the stores it uses.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { join } from 'node:path';
import type { StoreName } from '../../lib/config.js';
import { ALIASES, ESM_REQUIRE_BANNER, EXTERNAL_MODULES, projectRoot } from './bundling.js';

export { projectRoot };


export interface StoreWiring {
  vpc: ec2.IVpc;
  securityGroup: ec2.ISecurityGroup;
  /** Plain settings per store, e.g. SCYLLA_CONTACT_POINTS. */
  environment: Record<StoreName, Record<string, string>>;
  /** Secrets per store; a function may read only those of the stores it uses. */
  secrets: Record<StoreName, { envName: string; secret: secretsmanager.ISecret }[]>;
}

export interface OperationFunctionProps {
  handler: string;
  stores: StoreName[];
  memoryMb: number;
  timeoutSeconds: number;
  wiring: StoreWiring;
  logRetention: logs.RetentionDays;
  environment?: Record<string, string>;
  commandHooks?: ICommandHooks;
  reservedConcurrency?: number;
}

export class OperationFunction extends Construct {
  readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: OperationFunctionProps) {
    super(scope, id);
    const needsVpc = props.stores.includes('scylla') || props.stores.includes('postgres');
    const environment: Record<string, string> = {
      NODE_OPTIONS: '--enable-source-maps',
      LOG_LEVEL: 'INFO',
      POWERTOOLS_SERVICE_NAME: 'messages',
      ...props.environment,
    };
    for (const store of props.stores) {
      Object.assign(environment, props.wiring.environment[store]);
      for (const { envName, secret } of props.wiring.secrets[store]) environment[envName] = secret.secretArn;
    }
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new NodejsFunction(this, 'Function', {
      entry: join(projectRoot, 'functions', `${props.handler}.ts`),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memoryMb,
      timeout: Duration.seconds(props.timeoutSeconds),
      environment,
      logGroup,
      reservedConcurrentExecutions: props.reservedConcurrency,
      tracing: lambda.Tracing.ACTIVE,
      ...(needsVpc
        ? {
            vpc: props.wiring.vpc,
            // Private subnets with egress: Upstash and Secrets Manager are reached through NAT.
            vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
            securityGroups: [props.wiring.securityGroup],
          }
        : {}),
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        mainFields: ['module', 'main'],
        externalModules: EXTERNAL_MODULES,
        banner: ESM_REQUIRE_BANNER,
        esbuildArgs: Object.fromEntries(Object.entries(ALIASES).map(([name, path]) => [`--alias:${name}`, path])),
        commandHooks: props.commandHooks,
      },
    });
    for (const store of props.stores) {
      for (const { secret } of props.wiring.secrets[store]) secret.grantRead(this.function);
    }
  }
}
