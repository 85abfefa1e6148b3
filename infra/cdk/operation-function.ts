/**
 * One construct fixes what every Lambda of this service shares: Node 22 on arm64, its bundle (built by
 * infra/build/build-function.ts with the settings of infra/cdk/bundling.ts: ESM, minified, source maps, the
 * unused parts of cassandra-driver left out), a log group with retention, VPC placement when it reaches Scylla or PostgreSQL,
 * exactly the secrets and settings of the stores it uses and of the extra secrets it declares, the metrics
 * namespace, and X-Ray tracing when it is on.
 */
import { spawnSync } from 'node:child_process';
import { AssetHashType, DockerImage, Duration, RemovalPolicy, type BundlingOptions, type ILocalBundling } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { join } from 'node:path';
import type { StoreName } from '../../lib/config.js';
import type { ExtraSecret } from '../../functions/routes.js';
import { projectRoot } from './bundling.js';

export { projectRoot };

/** POWERTOOLS_SERVICE_NAME of every function, and the `service` dimension of every metric they emit. */
export const SERVICE_NAME = 'messages';

export interface SecretWiring {
  envName: string;
  secret: secretsmanager.ISecret;
}

export interface StoreWiring {
  vpc: ec2.IVpc;
  securityGroup: ec2.ISecurityGroup;
  /** Plain settings per store, e.g. SCYLLA_CONTACT_POINTS. */
  environment: Record<StoreName, Record<string, string>>;
  /** Secrets per store; a function may read only those of the stores it uses. */
  secrets: Record<StoreName, SecretWiring[]>;
  /** Secrets beyond the stores', each read only by the functions that declare it in the route table. */
  extraSecrets: Record<ExtraSecret, SecretWiring>;
}

/** What every function of the stack shares about metrics and tracing. */
export interface Telemetry {
  /** METRICS_NAMESPACE: the CloudWatch namespace the functions emit their EMF metrics in. */
  metricsNamespace: string;
  /** Active X-Ray tracing on the function and TRACING_ENABLED=true for Powertools Tracer; off: neither. */
  tracing: boolean;
}

export interface OperationFunctionProps {
  handler: string;
  /** Every store the function reaches (for an HTTP route: `storesOf(route)`). */
  stores: StoreName[];
  secrets: ExtraSecret[];
  memoryMb: number;
  timeoutSeconds: number;
  wiring: StoreWiring;
  telemetry: Telemetry;
  logRetention: logs.RetentionDays;
  environment?: Record<string, string>;
  /** Shell commands run before and after the bundle is built (only beforeBundling and afterBundling apply). */
  commandHooks?: ICommandHooks;
  reservedConcurrency?: number;
  /** Receives asynchronous invocations that failed every attempt. */
  deadLetterQueue?: sqs.IQueue;
  /** Asynchronous invocations: retries after a failure (0 to 2; Lambda's default 2) and the oldest event still run. */
  retryAttempts?: number;
  maxEventAge?: Duration;
  /** A shared execution role (see function-roles.ts); without one the function gets its own. */
  role?: iam.IRole;
}

export class OperationFunction extends Construct {
  readonly function: lambda.Function;
  /** Whether it runs in the VPC (it reaches Scylla or PostgreSQL). */
  static needsVpc(stores: readonly StoreName[]): boolean {
    return stores.includes('scylla') || stores.includes('postgres');
  }

  constructor(scope: Construct, id: string, props: OperationFunctionProps) {
    super(scope, id);
    const needsVpc = OperationFunction.needsVpc(props.stores);
    // No NODE_OPTIONS=--enable-source-maps: Node then reads and parses every .map at load, which cost 6-19 %
    // more CPU per cold import here (issue 15.3). The .map files still ship beside each bundle, to map a
    // logged stack trace afterwards.
    const environment: Record<string, string> = {
      LOG_LEVEL: 'INFO',
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      METRICS_NAMESPACE: props.telemetry.metricsNamespace,
      ...(props.telemetry.tracing ? { TRACING_ENABLED: 'true' } : {}),
      ...props.environment,
    };
    const secrets = [
      ...props.stores.flatMap((store) => props.wiring.secrets[store]),
      ...props.secrets.map((name) => props.wiring.extraSecrets[name]),
    ];
    for (const store of props.stores) Object.assign(environment, props.wiring.environment[store]);
    for (const { envName, secret } of secrets) environment[envName] = secret.secretArn;
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new lambda.Function(this, 'Function', {
      code: lambda.Code.fromAsset(projectRoot, {
        // Hashing the output, not the project directory (node_modules included), like NodejsFunction did.
        assetHashType: AssetHashType.OUTPUT,
        bundling: new FunctionBundling(props.handler, props.telemetry.tracing, props.commandHooks),
      }),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memoryMb,
      timeout: Duration.seconds(props.timeoutSeconds),
      environment,
      logGroup,
      reservedConcurrentExecutions: props.reservedConcurrency,
      ...(props.role ? { role: props.role } : {}),
      ...(props.telemetry.tracing ? { tracing: lambda.Tracing.ACTIVE } : {}),
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
      ...(props.retryAttempts !== undefined ? { retryAttempts: props.retryAttempts } : {}),
      ...(props.maxEventAge ? { maxEventAge: props.maxEventAge } : {}),
      ...(needsVpc
        ? {
            vpc: props.wiring.vpc,
            // Private subnets with egress: Upstash and Secrets Manager are reached through NAT.
            vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
            securityGroups: [props.wiring.securityGroup],
          }
        : {}),
    });
    for (const { secret } of secrets) secret.grantRead(this.function);
  }
}

/** Runs a hook's shell commands in the project directory; a failing one stops the synth with its output. */
function runHooks(commands: string[], what: string): void {
  for (const command of commands) {
    const result = spawnSync('bash', ['-c', command], { cwd: projectRoot, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${what} hook failed (${command}): ${result.stderr || result.error?.message}`);
  }
}

/**
 * Builds the function's bundle on this machine at synth time (never in Docker). CDK skips it when the
 * stack is not being bundled (context `aws:cdk:bundling-stacks`, which the infra tests set to []).
 * `command` is not run: it names the build, and keeps two functions' bundles apart in CDK's asset cache
 * (keyed by these options' JSON).
 */
class FunctionBundling implements BundlingOptions {
  readonly image = DockerImage.fromRegistry('local-bundling-only');
  readonly command: string[];
  readonly local: ILocalBundling;

  constructor(handler: string, tracing: boolean, hooks: ICommandHooks | undefined) {
    this.command = ['infra/build/build-function.ts', handler, String(tracing)];
    this.local = {
      tryBundle(outputDir: string): boolean {
        runHooks(hooks?.beforeBundling(projectRoot, outputDir) ?? [], `${handler}: beforeBundling`);
        const build = spawnSync(process.execPath, ['--import', 'tsx', join('infra', 'build', 'build-function.ts'), handler, outputDir, String(tracing)], {
          cwd: projectRoot,
          encoding: 'utf8',
        });
        if (build.status !== 0) throw new Error(`Bundling ${handler} failed: ${build.stderr || build.error?.message}`);
        runHooks(hooks?.afterBundling(projectRoot, outputDir) ?? [], `${handler}: afterBundling`);
        return true;
      },
    };
  }
}
