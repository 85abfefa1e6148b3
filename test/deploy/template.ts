/**
 * Reading the synthesised template: every AWS::Lambda::Function with its bundle directory (Code.S3Key → asset
 * hash → cdk.out/asset.<hash>), handler, runtime, memory, timeout and environment; and the CloudFormation
 * intrinsics of an environment resolved to local equivalents (Ref, Fn::GetAtt, Fn::Join, Fn::Select,
 * Fn::Split, Fn::Sub, Fn::If, pseudo parameters). What a reference resolves to is decided by the type of the
 * resource it names, never by its logical id.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

export interface Template {
  Parameters?: Record<string, { Type: string; Default?: unknown; Description?: string }>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, Resource>;
}

export interface FunctionSpec {
  logicalId: string;
  /** The construct path (aws:cdk:path metadata), e.g. MessageStore/CreateMessage/Function/Resource. */
  path: string;
  /** The handler setting, e.g. `index.handler`. */
  handler: string;
  runtime: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** The asset directory in cdk.out, when the code is a file asset of this assembly. */
  bundleDir: string | undefined;
  /** The source entry (functions/<name>.ts) the bundle was built from, when the assembly says so. */
  entry: string | undefined;
  environment: Record<string, unknown>;
}

export function readTemplate(file: string): Template {
  return JSON.parse(readFileSync(file, 'utf8')) as Template;
}

interface AssetManifest {
  files?: Record<string, { source: { path?: string; packaging?: string }; destinations: Record<string, { objectKey: string }> }>;
}

/** Every Lambda function of the template with its bundle (via the asset manifest when there is one). */
export function lambdaFunctions(template: Template, outDir: string, assetsFile: string | undefined): FunctionSpec[] {
  const byObjectKey = new Map<string, string>();
  if (assetsFile && existsSync(assetsFile)) {
    const manifest = JSON.parse(readFileSync(assetsFile, 'utf8')) as AssetManifest;
    for (const asset of Object.values(manifest.files ?? {})) {
      for (const destination of Object.values(asset.destinations)) {
        if (asset.source.path) byObjectKey.set(destination.objectKey, join(outDir, asset.source.path));
      }
    }
  }
  const functions: FunctionSpec[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const properties = resource.Properties ?? {};
    const code = (properties.Code ?? {}) as { S3Key?: unknown; ZipFile?: unknown };
    let bundleDir: string | undefined;
    if (typeof code.S3Key === 'string') {
      bundleDir = byObjectKey.get(code.S3Key);
      const hash = /^([0-9a-f]{64})\.zip$/.exec(code.S3Key)?.[1];
      if (!bundleDir && hash && existsSync(join(outDir, `asset.${hash}`))) bundleDir = join(outDir, `asset.${hash}`);
    }
    const metadata = resource.Metadata ?? {};
    functions.push({
      logicalId,
      path: typeof metadata['aws:cdk:path'] === 'string' ? metadata['aws:cdk:path'] : logicalId,
      handler: typeof properties.Handler === 'string' ? properties.Handler : 'index.handler',
      runtime: typeof properties.Runtime === 'string' ? properties.Runtime : '',
      memoryMb: Number(properties.MemorySize ?? 128),
      timeoutSeconds: Number(properties.Timeout ?? 3),
      bundleDir,
      entry: undefined,
      environment: ((properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}),
    });
  }
  return functions;
}

/** Where a secret ARN came from: an input, a secret the stack generates at random, or a database's own secret. */
export type SecretOrigin =
  | { kind: 'input' }
  | { kind: 'generated'; logicalId: string; attachedToDatabase: boolean }
  | { kind: 'template-value'; logicalId: string }
  | { kind: 'database-managed'; logicalId: string };

export interface ResolverOptions {
  template: Template;
  stackName: string;
  region: string;
  account: string;
  /** Values of the template's CloudFormation parameters. */
  parameters: Record<string, string>;
  /** Local stand-ins the references resolve to. */
  local: {
    sqsEndpoint: string;
    database: { host: string; port: number };
  };
}

export class UnresolvableError extends Error {
  override name = 'UnresolvableError';
}

const shortId = (seed: string, length = 10) => createHash('sha256').update(seed).digest('hex').slice(0, length);
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

/**
 * Resolves intrinsics to the values CloudFormation would give them, with physical names and ids made up
 * (deterministically) and the endpoints of queues and databases pointing at the local stand-ins. Secret ARNs
 * it hands out are recorded with their origin (`secrets`), for the wiring check and the local Secrets Manager.
 */
export class Resolver {
  readonly secrets = new Map<string, SecretOrigin>();
  private readonly o: ResolverOptions;

  constructor(options: ResolverOptions) {
    this.o = options;
  }

  private resource(logicalId: string): Resource {
    const resource = this.o.template.Resources[logicalId];
    if (!resource) throw new UnresolvableError(`no resource ${logicalId} in the template`);
    return resource;
  }

  private secretArnOf(logicalId: string): string {
    const resource = this.resource(logicalId);
    const name = typeof resource.Properties?.Name === 'string' ? resource.Properties.Name : `${logicalId}-${shortId(logicalId, 12)}`;
    const arn = `arn:aws:secretsmanager:${this.o.region}:${this.o.account}:secret:${name}-${shortId(`${logicalId}/suffix`, 6)}`;
    if (!this.secrets.has(arn)) {
      const properties = resource.Properties ?? {};
      const attached = Object.values(this.o.template.Resources).some(
        (other) => other.Type === 'AWS::SecretsManager::SecretTargetAttachment' && JSON.stringify(other.Properties?.SecretId) === JSON.stringify({ Ref: logicalId }),
      );
      this.secrets.set(
        arn,
        properties.GenerateSecretString !== undefined
          ? { kind: 'generated', logicalId, attachedToDatabase: attached }
          : { kind: 'template-value', logicalId },
      );
    }
    return arn;
  }

  private ref(name: string): unknown {
    const pseudo: Record<string, string> = {
      'AWS::Region': this.o.region,
      'AWS::AccountId': this.o.account,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::Partition': 'aws',
      'AWS::StackName': this.o.stackName,
      'AWS::StackId': `arn:aws:cloudformation:${this.o.region}:${this.o.account}:stack/${this.o.stackName}/${shortId('stack', 8)}`,
    };
    if (name in pseudo) return pseudo[name];
    if (name === 'AWS::NoValue') return undefined;
    if (this.o.template.Parameters?.[name]) {
      const value = this.o.parameters[name] ?? this.o.template.Parameters[name].Default;
      if (value === undefined) throw new UnresolvableError(`CloudFormation parameter ${name} has no value (add it to parameters in test/deploy/inputs.ts)`);
      return typeof value === 'string' ? value : JSON.stringify(value);
    }
    const resource = this.resource(name);
    const props = resource.Properties ?? {};
    const physicalName = (key: string) => (typeof props[key] === 'string' ? props[key] : `${this.o.stackName}-${name}-${shortId(name, 12).toUpperCase()}`);
    switch (resource.Type) {
      case 'AWS::SecretsManager::Secret':
        return this.secretArnOf(name);
      case 'AWS::SecretsManager::SecretTargetAttachment': {
        // Its Ref is the ARN of the secret it attaches (to the database that then rotates and serves it).
        const arn = this.resolve(props.SecretId);
        if (typeof arn !== 'string') throw new UnresolvableError(`${name}: SecretId does not resolve to an ARN`);
        const origin = this.secrets.get(arn);
        if (origin?.kind === 'generated') this.secrets.set(arn, { ...origin, attachedToDatabase: true });
        return arn;
      }
      case 'AWS::Events::EventBus':
        return physicalName('Name');
      case 'AWS::SQS::Queue':
        return `${this.o.local.sqsEndpoint}/${this.o.account}/${physicalName('QueueName')}`;
      case 'AWS::Lambda::Function':
        return physicalName('FunctionName');
      case 'AWS::ApiGatewayV2::Api':
      case 'AWS::ApiGateway::RestApi':
        return shortId(name);
      case 'AWS::RDS::DBCluster':
      case 'AWS::RDS::DBInstance':
        return physicalName(resource.Type === 'AWS::RDS::DBCluster' ? 'DBClusterIdentifier' : 'DBInstanceIdentifier').toLowerCase();
      default:
        return `${name}-${shortId(name, 8)}`;
    }
  }

  private getAtt(name: string, attribute: string): unknown {
    const resource = this.resource(name);
    const type = resource.Type;
    if (type === 'AWS::RDS::DBCluster' || type === 'AWS::RDS::DBInstance') {
      if (/Endpoint\.Address$/.test(attribute)) return this.o.local.database.host;
      if (/Endpoint\.Port$/.test(attribute)) return String(this.o.local.database.port);
      if (attribute === 'MasterUserSecret.SecretArn') {
        const arn = `arn:aws:secretsmanager:${this.o.region}:${this.o.account}:secret:rds!cluster-${shortId(name, 8)}-${shortId(`${name}/s`, 6)}`;
        this.secrets.set(arn, { kind: 'database-managed', logicalId: name });
        return arn;
      }
    }
    if (type === 'AWS::SQS::Queue') {
      const url = this.ref(name) as string;
      const queueName = url.split('/').pop()!;
      if (attribute === 'QueueUrl') return url;
      if (attribute === 'QueueName') return queueName;
      if (attribute === 'Arn') return `arn:aws:sqs:${this.o.region}:${this.o.account}:${queueName}`;
    }
    if (type === 'AWS::Events::EventBus') {
      const busName = this.ref(name) as string;
      if (attribute === 'Name') return busName;
      if (attribute === 'Arn') return `arn:aws:events:${this.o.region}:${this.o.account}:event-bus/${busName}`;
    }
    if (type === 'AWS::ApiGatewayV2::Api' && attribute === 'ApiEndpoint') {
      const protocol = (resource.Properties?.ProtocolType as string | undefined) === 'WEBSOCKET' ? 'wss' : 'https';
      return `${protocol}://${this.ref(name) as string}.execute-api.${this.o.region}.amazonaws.com`;
    }
    if (type === 'AWS::SecretsManager::Secret' && attribute === 'Id') return this.secretArnOf(name);
    if (type === 'AWS::Lambda::Function' && attribute === 'Arn') {
      return `arn:aws:lambda:${this.o.region}:${this.o.account}:function:${this.ref(name) as string}`;
    }
    if (attribute === 'Arn') {
      const service = type.split('::')[1]!.toLowerCase();
      return `arn:aws:${service}:${this.o.region}:${this.o.account}:${name.toLowerCase()}/${shortId(name, 8)}`;
    }
    throw new UnresolvableError(`Fn::GetAtt ${name}.${attribute} (${type}) has no local equivalent in test/deploy/template.ts`);
  }

  private condition(name: string): boolean {
    const expression = this.o.template.Conditions?.[name];
    if (expression === undefined) throw new UnresolvableError(`no condition ${name}`);
    return this.truth(expression);
  }

  private truth(expression: unknown): boolean {
    const [key, args] = Object.entries(expression as Record<string, unknown>)[0] ?? [];
    const list = Array.isArray(args) ? args : [];
    switch (key) {
      case 'Fn::Equals':
        return JSON.stringify(this.resolve(list[0])) === JSON.stringify(this.resolve(list[1]));
      case 'Fn::Not':
        return !this.truth(list[0]);
      case 'Fn::And':
        return list.every((item) => this.truth(item));
      case 'Fn::Or':
        return list.some((item) => this.truth(item));
      case 'Condition':
        return this.condition(String(args));
      default:
        throw new UnresolvableError(`unsupported condition ${JSON.stringify(expression)}`);
    }
  }

  private sub(text: string, variables: Record<string, unknown>): string {
    return text.replace(/\$\{([^}!][^}]*)\}/g, (_, reference: string) => {
      if (reference in variables) return String(this.resolve(variables[reference]));
      const dot = reference.indexOf('.');
      if (dot > 0 && !reference.startsWith('AWS::')) return String(this.getAtt(reference.slice(0, dot), reference.slice(dot + 1)));
      return String(this.ref(reference));
    });
  }

  /** A template value with every intrinsic replaced by its (local) value. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, args] = entries[0]!;
      switch (key) {
        case 'Ref':
          return this.ref(String(args));
        case 'Fn::GetAtt': {
          const [name, attribute] = Array.isArray(args) ? (args as string[]) : String(args).split(/\.(.*)/);
          return this.getAtt(String(name), String(this.resolve(attribute)));
        }
        case 'Fn::Join': {
          const [separator, items] = args as [string, unknown];
          const list = this.resolve(items);
          if (!Array.isArray(list)) throw new UnresolvableError('Fn::Join of a non-list');
          return list.filter((item) => item !== undefined).join(separator);
        }
        case 'Fn::Select': {
          const [index, items] = args as [unknown, unknown];
          const list = this.resolve(items);
          if (!Array.isArray(list)) throw new UnresolvableError('Fn::Select of a non-list');
          return list[Number(this.resolve(index))];
        }
        case 'Fn::Split': {
          const [separator, text] = args as [string, unknown];
          return String(this.resolve(text)).split(separator);
        }
        case 'Fn::Sub': {
          const [text, variables] = Array.isArray(args) ? (args as [string, Record<string, unknown>]) : [String(args), {}];
          return this.sub(text, variables);
        }
        case 'Fn::If': {
          const [condition, whenTrue, whenFalse] = args as [string, unknown, unknown];
          return this.resolve(this.condition(condition) ? whenTrue : whenFalse);
        }
        case 'Fn::Base64':
          return Buffer.from(String(this.resolve(args))).toString('base64');
        case 'Fn::ImportValue':
        case 'Fn::GetAZs':
        case 'Fn::Cidr':
        case 'Fn::FindInMap':
          throw new UnresolvableError(`${key} in a function's environment has no local equivalent: ${JSON.stringify(args)}`);
        default:
          break;
      }
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, this.resolve(item)]));
  }

  /** Registers a secret ARN given as a deploy input (it reaches the template as a literal string). */
  noteLiteralSecret(arn: string): void {
    if (!SECRET_ARN.test(arn)) throw new UnresolvableError(`not a Secrets Manager ARN: ${arn}`);
    if (!this.secrets.has(arn)) this.secrets.set(arn, { kind: 'input' });
  }
}

/** `https://{api}.execute-api.{region}.amazonaws.com/{stage}` and the API it names, if the value is one. */
export function parseExecuteApiUrl(value: string): { apiId: string; region: string; stage: string } | undefined {
  const match = /^https:\/\/([a-z0-9]+)\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([A-Za-z0-9_$-]+)\/?$/.exec(value);
  return match ? { apiId: match[1]!, region: match[2]!, stage: match[3]! } : undefined;
}
