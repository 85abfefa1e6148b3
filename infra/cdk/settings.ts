/**
 * The deploy inputs, in one typed place. Every input comes from CDK context (`-c key=value`, or
 * `cdk.context.json`), is checked when the app synthesises, and a missing or contradictory one stops
 * `cdk synth` with one message listing every problem and how to pass each value. Nothing becomes a
 * CloudFormation parameter or a generated value that cannot work: a parameter is a token at synth time (it
 * could not shape the keyspace's replication, for one), and a random "database URL" fails the first deploy.
 *
 * An empty string counts as "not given", so a CI workflow can pass every key from repository variables.
 */
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';

/** Where an input can come from, for the error message. */
export type ContextReader = (key: string) => unknown;

export interface DeploySettings {
  jwt: {
    /** The issuer URL; API Gateway reads its /.well-known/openid-configuration for the JWKS. */
    issuer: string;
    /** The audience user tokens carry. */
    audience: string;
    /** The audience (or client id) service tokens are issued for; absent: no token is a service principal. */
    serviceAudience?: string;
  };
  scylla: {
    contactPoints: string[];
    /** The data centre next to these Lambdas: the driver's local DC and the keyspace's replication. */
    localDc: string;
    keyspace: string;
    /** `SCYLLA_REPLICATION` (`dc1:3` or `dc1:3,dc2:3`); default RF 3 in the local DC. */
    replication: string;
    /** `{"username","password"}`; absent only with `scyllaAuthentication=false`. */
    credentialsSecretArn?: string;
    /** CQL port: 9142 (ScyllaDB's encrypted port) with TLS, 9042 without, unless given. */
    port: number;
    tls: boolean;
    /** A PEM CA bundle in Secrets Manager (ScyllaDB Cloud: the cluster's CA); absent: the system store. */
    caSecretArn?: string;
    /** The name node certificates are checked against (the driver connects to addresses). */
    tlsServerName?: string;
    /** Where the cluster is, for the functions' egress rule and, with a group, its ingress rule. */
    securityGroupId?: string;
    cidrs: string[];
  };
  database:
    | { kind: 'aurora'; tls: boolean; ca: 'rds' | 'system'; deletionProtection: boolean }
    | { kind: 'existing'; secretArn: string; securityGroupId?: string; cidrs: string[]; tls: boolean; ca: 'rds' | 'system' };
  upstash: { url: string; tokenSecretArn: string };
  /** The Telegram bridge; absent: no bot (the webhook route answers 401 to everyone, nothing is registered). */
  telegram?: { botTokenSecretArn: string; historyUrl?: string; historyTokenSecretArn?: string };
  /**
   * The VPC the functions run in: an existing one (the usual case: the one peered with the Scylla cluster), or,
   * with `createVpc=true`, a new one (2 AZs, one NAT gateway) for a cluster reached at public addresses.
   */
  vpc: { kind: 'existing'; id: string; availabilityZones: string[]; privateSubnetIds: string[] } | { kind: 'new' };
  alarmEmail?: string;
  logRetentionDays: RetentionDays;
  metricsNamespace: string;
  tracing: boolean;
  apiGatewayCloudWatchRole: boolean;
}

/** How each input is described and passed: the one table the error message and the README follow. */
export const INPUTS = {
  jwtIssuer: 'the JWT issuer, an https URL (e.g. https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf)',
  jwtAudience: 'the audience (or app client id) of user tokens',
  jwtServiceAudience: 'optional: the audience (or app client id) of service tokens (Telegram bridge, admin tools)',
  scyllaContactPoints: 'comma-separated Scylla node addresses (host names or IPs)',
  scyllaLocalDc: 'the Scylla data centre in this region (driver local DC and keyspace replication)',
  scyllaKeyspace: 'optional: the keyspace (default chat)',
  scyllaReplication: 'optional: dc1:3[,dc2:3] (default <scyllaLocalDc>:3)',
  scyllaCredentialsSecretArn: 'the complete ARN of a secret holding {"username","password"} of the service\'s Scylla role',
  scyllaAuthentication: 'optional: false for a cluster without authentication (then no credentials secret)',
  scyllaPort: 'optional: the CQL port (default 9142, the encrypted port, with TLS; 9042 without)',
  scyllaTls: 'optional: false to connect to Scylla without TLS (default true; ScyllaDB Cloud requires TLS)',
  scyllaCaSecretArn: 'optional: the complete ARN of a secret holding the PEM CA of the cluster (ScyllaDB Cloud: its CA; default: the system store)',
  scyllaTlsServerName: 'optional: the host name node certificates carry, when the contact points are addresses',
  scyllaSecurityGroupId: 'the security group of the Scylla nodes (gets an ingress rule on 9042), or scyllaCidrs',
  scyllaCidrs: 'comma-separated CIDRs of the Scylla nodes (e.g. a peered ScyllaDB Cloud VPC), or scyllaSecurityGroupId',
  databaseSecretArn: 'optional: the complete ARN of an existing PostgreSQL secret (RDS JSON or a postgres:// URL); absent: Aurora Serverless v2 is created',
  databaseSecurityGroupId: 'with databaseSecretArn: the database\'s security group (gets an ingress rule on 5432), or databaseCidrs',
  databaseCidrs: 'with databaseSecretArn: comma-separated CIDRs of the database, or databaseSecurityGroupId',
  databaseTls: 'optional: false to connect to PostgreSQL without TLS (default true, certificate verified)',
  databaseCa: 'optional: rds (the RDS CA bundle shipped in the bundles, default) or system (the system store)',
  databaseDeletionProtection: 'optional: true to turn on the created Aurora cluster\'s deletion protection (default false: a failed first deploy must be able to roll back; removal always keeps a snapshot)',
  upstashUrl: 'the Upstash Redis REST URL (https)',
  upstashTokenSecretArn: 'the complete ARN of a secret holding the Upstash REST token',
  telegramBotTokenSecretArn: 'optional: the complete ARN of a secret holding the Telegram bot token (turns the bridge on)',
  telegramHistoryUrl: 'optional: the Telegram history service URL the reconciler backfills from',
  telegramHistoryTokenSecretArn: 'with telegramHistoryUrl: the complete ARN of a secret holding its bearer token',
  vpcId: 'the VPC the functions run in, peered with (or holding) the Scylla cluster, with vpcAvailabilityZones and vpcPrivateSubnetIds; or createVpc=true',
  createVpc: 'optional: true for a new VPC (2 AZs, one NAT gateway) instead of vpcId, when Scylla is reached at public addresses (allowlist the NatIp output)',
  vpcAvailabilityZones: 'with vpcId: comma-separated availability zones of the private subnets',
  vpcPrivateSubnetIds: 'with vpcId: comma-separated private subnet ids (with a NAT route: Upstash and Telegram are on the internet)',
  alarmEmail: 'optional: an address subscribed to the alarm topic',
  logRetentionDays: 'optional: log retention in days (default 30)',
  metricsNamespace: 'optional: the CloudWatch namespace of the metrics (default ChatMessages)',
  tracing: 'optional: false to turn off X-Ray tracing (default true)',
  apiGatewayCloudWatchRole: 'optional: false when the account already has an API Gateway CloudWatch role',
  stackName: 'optional: the CloudFormation stack name (default MessageStore)',
} as const;

export type InputKey = keyof typeof INPUTS;

export class DeploySettingsError extends Error {
  override name = 'DeploySettingsError';
}

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const HOST = /^[A-Za-z0-9.:_-]+$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
export const DEFAULT_METRICS_NAMESPACE = 'ChatMessages';

/**
 * Reads and checks every input. Throws one DeploySettingsError listing each missing or contradictory input
 * with what it is and how to pass it.
 */
export function readDeploySettings(read: ContextReader): DeploySettings {
  const problems: string[] = [];
  const problem = (key: InputKey, what: string) => problems.push(`${key}: ${what} (${INPUTS[key]})`);

  const text = (key: InputKey): string | undefined => {
    const value = read(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      problem(key, `expected a string, got ${JSON.stringify(value)}`);
      return undefined;
    }
    const trimmed = String(value).trim();
    return trimmed === '' ? undefined : trimmed;
  };
  const required = (key: InputKey): string | undefined => {
    const value = text(key);
    if (value === undefined) problem(key, 'required');
    return value;
  };
  const list = (key: InputKey, pattern: RegExp, what: string): string[] | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    const items = value.split(',').map((item) => item.trim()).filter(Boolean);
    const bad = items.filter((item) => !pattern.test(item) || (pattern === CIDR && !validCidr(item)));
    if (items.length === 0 || bad.length > 0) problem(key, `expected ${what}, got ${JSON.stringify(value)}`);
    return items;
  };
  const flag = (key: InputKey, fallback: boolean): boolean => {
    const value = text(key);
    if (value === undefined) return fallback;
    if (value === 'true') return true;
    if (value === 'false') return false;
    problem(key, `expected true or false, got ${JSON.stringify(value)}`);
    return fallback;
  };
  const secretArn = (key: InputKey): string | undefined => {
    const value = text(key);
    if (value !== undefined && !SECRET_ARN.test(value)) {
      problem(key, `expected a complete Secrets Manager ARN (…:secret:name-AbCdEf), got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const url = (key: InputKey, value: string | undefined): void => {
    if (value === undefined) return;
    let protocol = '';
    try {
      protocol = new URL(value).protocol;
    } catch {
      // reported below
    }
    if (protocol !== 'https:') problem(key, `expected an https URL, got ${JSON.stringify(value)}`);
  };

  // The token issuer.
  const issuer = required('jwtIssuer');
  url('jwtIssuer', issuer);
  const audience = required('jwtAudience');
  const serviceAudience = text('jwtServiceAudience');
  if (serviceAudience !== undefined && serviceAudience === audience) {
    problem('jwtServiceAudience', 'must differ from jwtAudience: a user token must never pass for a service token');
  }

  // Scylla, always bring-your-own.
  const contactPoints = list('scyllaContactPoints', HOST, 'comma-separated host names or addresses');
  if (contactPoints === undefined) problem('scyllaContactPoints', 'required');
  const localDc = required('scyllaLocalDc');
  if (localDc !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(localDc)) problem('scyllaLocalDc', `not a data-centre name: ${JSON.stringify(localDc)}`);
  const keyspace = text('scyllaKeyspace') ?? 'chat';
  if (!/^[a-z][a-z0-9_]{0,47}$/.test(keyspace)) problem('scyllaKeyspace', `expected a lower-case identifier, got ${JSON.stringify(keyspace)}`);
  const replication = text('scyllaReplication') ?? (localDc ? `${localDc}:3` : '');
  if (text('scyllaReplication') !== undefined) {
    const dataCenters = replication.split(',').map((part) => /^([A-Za-z0-9_.-]{1,64}):(\d{1,2})$/.exec(part.trim()));
    if (dataCenters.some((match) => !match)) {
      problem('scyllaReplication', `expected dc1:3[,dc2:3] (NetworkTopologyStrategy; SimpleStrategy is for one local node), got ${JSON.stringify(replication)}`);
    } else if (localDc && !dataCenters.some((match) => match![1] === localDc)) {
      problem('scyllaReplication', `names no replicas in scyllaLocalDc ${localDc}: every local read would cross data centres`);
    }
  }
  const authentication = flag('scyllaAuthentication', true);
  const credentialsSecretArn = secretArn('scyllaCredentialsSecretArn');
  if (authentication && credentialsSecretArn === undefined) {
    problem('scyllaCredentialsSecretArn', 'required (or scyllaAuthentication=false for a cluster without authentication)');
  }
  if (!authentication && credentialsSecretArn !== undefined) {
    problem('scyllaAuthentication', 'false contradicts scyllaCredentialsSecretArn: give one or the other');
  }
  const scyllaTls = flag('scyllaTls', true);
  const caSecretArn = secretArn('scyllaCaSecretArn');
  if (!scyllaTls && caSecretArn !== undefined) problem('scyllaCaSecretArn', 'given with scyllaTls=false: a CA is only used with TLS');
  const tlsServerName = text('scyllaTlsServerName');
  if (!scyllaTls && tlsServerName !== undefined) problem('scyllaTlsServerName', 'given with scyllaTls=false: a server name is only checked with TLS');
  if (tlsServerName !== undefined && !/^[A-Za-z0-9.-]{1,253}$/.test(tlsServerName)) problem('scyllaTlsServerName', `not a host name: ${JSON.stringify(tlsServerName)}`);
  const portText = text('scyllaPort');
  const port = portText === undefined ? (scyllaTls ? 9142 : 9042) : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) problem('scyllaPort', `expected a port number, got ${JSON.stringify(portText)}`);
  const scyllaSecurityGroupId = text('scyllaSecurityGroupId');
  const scyllaCidrs = list('scyllaCidrs', CIDR, 'comma-separated IPv4 CIDRs') ?? [];
  if (scyllaSecurityGroupId === undefined && scyllaCidrs.length === 0) {
    problem('scyllaSecurityGroupId', 'required, or scyllaCidrs: the functions may reach 9042 only where the cluster is');
  }
  if (scyllaSecurityGroupId !== undefined && !/^sg-[0-9a-f]{8,17}$/.test(scyllaSecurityGroupId)) {
    problem('scyllaSecurityGroupId', `expected sg-…, got ${JSON.stringify(scyllaSecurityGroupId)}`);
  }

  // PostgreSQL: an existing one, or Aurora created here.
  const databaseSecretArn = secretArn('databaseSecretArn');
  const databaseSecurityGroupId = text('databaseSecurityGroupId');
  const databaseCidrs = list('databaseCidrs', CIDR, 'comma-separated IPv4 CIDRs') ?? [];
  const databaseTls = flag('databaseTls', true);
  const databaseCaText = text('databaseCa') ?? 'rds';
  const databaseCa = databaseCaText === 'system' ? 'system' : 'rds';
  const deletionProtection = flag('databaseDeletionProtection', false);
  if (databaseCaText !== 'rds' && databaseCaText !== 'system') problem('databaseCa', `expected rds or system, got ${JSON.stringify(databaseCaText)}`);
  if (databaseSecretArn === undefined && (databaseSecurityGroupId !== undefined || databaseCidrs.length > 0)) {
    problem('databaseSecretArn', 'required with databaseSecurityGroupId or databaseCidrs (without any of them, the stack creates Aurora)');
  }
  if (databaseSecretArn !== undefined && databaseSecurityGroupId === undefined && databaseCidrs.length === 0) {
    problem('databaseSecurityGroupId', 'required with databaseSecretArn, or databaseCidrs: the functions may reach 5432 only where the database is');
  }
  if (databaseSecurityGroupId !== undefined && !/^sg-[0-9a-f]{8,17}$/.test(databaseSecurityGroupId)) {
    problem('databaseSecurityGroupId', `expected sg-…, got ${JSON.stringify(databaseSecurityGroupId)}`);
  }

  // Upstash Redis (rate limits, typing, presence, push registry): nothing works without it.
  const upstashUrl = required('upstashUrl');
  url('upstashUrl', upstashUrl);
  const upstashTokenSecretArn = secretArn('upstashTokenSecretArn');
  if (upstashTokenSecretArn === undefined) problem('upstashTokenSecretArn', 'required');

  // Telegram, optional as a whole.
  const botTokenSecretArn = secretArn('telegramBotTokenSecretArn');
  const historyUrl = text('telegramHistoryUrl');
  url('telegramHistoryUrl', historyUrl);
  const historyTokenSecretArn = secretArn('telegramHistoryTokenSecretArn');
  if ((historyUrl !== undefined || historyTokenSecretArn !== undefined) && botTokenSecretArn === undefined) {
    problem('telegramBotTokenSecretArn', 'required with telegramHistoryUrl or telegramHistoryTokenSecretArn');
  }
  if ((historyUrl === undefined) !== (historyTokenSecretArn === undefined)) {
    problem(historyUrl === undefined ? 'telegramHistoryUrl' : 'telegramHistoryTokenSecretArn', 'telegramHistoryUrl and telegramHistoryTokenSecretArn go together');
  }

  // The network.
  const vpcId = text('vpcId');
  const availabilityZones = list('vpcAvailabilityZones', /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'comma-separated availability zones');
  const privateSubnetIds = list('vpcPrivateSubnetIds', /^subnet-[0-9a-f]{8,17}$/, 'comma-separated subnet ids');
  const createVpc = flag('createVpc', false);
  const vpcGiven = [vpcId, availabilityZones, privateSubnetIds].filter((value) => value !== undefined).length;
  if (vpcGiven > 0 && vpcGiven < 3) problem('vpcId', 'vpcId, vpcAvailabilityZones and vpcPrivateSubnetIds go together');
  if (vpcGiven === 0 && !createVpc) {
    problem('vpcId', 'required (with vpcAvailabilityZones and vpcPrivateSubnetIds), or createVpc=true: a VPC created by this deploy is peered with nothing, so it reaches Scylla only at public addresses');
  }
  if (vpcGiven > 0 && createVpc) problem('createVpc', 'true contradicts vpcId: give one or the other');
  if (createVpc && scyllaSecurityGroupId !== undefined) problem('scyllaSecurityGroupId', 'cannot be reached from a VPC created by this deploy (createVpc=true): give scyllaCidrs, the nodes\' public addresses');
  if (databaseSecretArn === undefined && availabilityZones && availabilityZones.length < 2) {
    problem('vpcAvailabilityZones', 'Aurora (created when no databaseSecretArn is given) needs private subnets in at least two availability zones');
  }
  if (vpcId !== undefined && !/^vpc-[0-9a-f]{8,17}$/.test(vpcId)) problem('vpcId', `expected vpc-…, got ${JSON.stringify(vpcId)}`);
  if (availabilityZones && privateSubnetIds && availabilityZones.length !== privateSubnetIds.length) {
    problem('vpcPrivateSubnetIds', 'one subnet per availability zone, in the same order');
  }

  const alarmEmail = text('alarmEmail');
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) problem('alarmEmail', `not an address: ${JSON.stringify(alarmEmail)}`);
  const retentionText = text('logRetentionDays');
  const logRetentionDays = retentionText === undefined ? 30 : Number(retentionText);
  if (!RETENTION_DAYS.includes(logRetentionDays)) problem('logRetentionDays', `expected one of ${RETENTION_DAYS.join(', ')}, got ${JSON.stringify(retentionText)}`);
  const metricsNamespace = text('metricsNamespace') ?? DEFAULT_METRICS_NAMESPACE;
  if (!/^[A-Za-z0-9._#:/-]{1,255}$/.test(metricsNamespace)) problem('metricsNamespace', `not a CloudWatch namespace: ${JSON.stringify(metricsNamespace)}`);
  const tracing = flag('tracing', true);
  const apiGatewayCloudWatchRole = flag('apiGatewayCloudWatchRole', true);

  if (problems.length > 0) {
    throw new DeploySettingsError(
      [
        `The deploy settings are incomplete or contradictory (${problems.length}):`,
        ...problems.map((line) => `  - ${line}`),
        'Pass each as -c key=value (cdk synth/diff/deploy), or put them under "context" in cdk.context.json;',
        'README.md, "Deploying", lists every input with an example. `npm run synth` passes a documented example set.',
      ].join('\n'),
    );
  }
  return {
    jwt: { issuer: issuer!, audience: audience!, ...(serviceAudience !== undefined ? { serviceAudience } : {}) },
    scylla: {
      contactPoints: contactPoints!,
      port,
      localDc: localDc!,
      keyspace,
      replication,
      ...(credentialsSecretArn !== undefined ? { credentialsSecretArn } : {}),
      tls: scyllaTls,
      ...(caSecretArn !== undefined ? { caSecretArn } : {}),
      ...(tlsServerName !== undefined ? { tlsServerName } : {}),
      ...(scyllaSecurityGroupId !== undefined ? { securityGroupId: scyllaSecurityGroupId } : {}),
      cidrs: scyllaCidrs,
    },
    database:
      databaseSecretArn === undefined
        ? { kind: 'aurora', tls: databaseTls, ca: databaseCa, deletionProtection }
        : {
            kind: 'existing',
            secretArn: databaseSecretArn,
            ...(databaseSecurityGroupId !== undefined ? { securityGroupId: databaseSecurityGroupId } : {}),
            cidrs: databaseCidrs,
            tls: databaseTls,
            ca: databaseCa,
          },
    upstash: { url: upstashUrl!, tokenSecretArn: upstashTokenSecretArn! },
    ...(botTokenSecretArn !== undefined
      ? {
          telegram: {
            botTokenSecretArn,
            ...(historyUrl !== undefined ? { historyUrl } : {}),
            ...(historyTokenSecretArn !== undefined ? { historyTokenSecretArn } : {}),
          },
        }
      : {}),
    vpc: vpcId !== undefined ? { kind: 'existing', id: vpcId, availabilityZones: availabilityZones!, privateSubnetIds: privateSubnetIds! } : { kind: 'new' },
    ...(alarmEmail !== undefined ? { alarmEmail } : {}),
    logRetentionDays,
    metricsNamespace,
    tracing,
    apiGatewayCloudWatchRole,
  };
}

function validCidr(cidr: string): boolean {
  const match = CIDR.exec(cidr);
  if (!match) return false;
  const octets = match.slice(1, 5).map(Number);
  return octets.every((octet) => octet <= 255) && Number(match[5]) <= 32 && Number(match[5]) >= 8;
}
