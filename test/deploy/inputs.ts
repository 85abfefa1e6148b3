/**
 * The deploy inputs the rehearsal synthesises the app with: what an operator passes to `cdk deploy`
 * (`-c key=value`), realistic (the stack validates them: https URLs, network rules), and the local equivalent
 * of each deployed value this run starts. Switching the stack to other context keys is an edit of this file.
 *
 * `context` is what the stack reads today and what the typed settings module will read (issue 14, item 1).
 * Keys the stack does not know are ignored by `cdk synth`, so the new keys can be listed before they land.
 * `parameters` answers CloudFormation parameters the stack still makes for values it was not given (a
 * `Ref` to a parameter in a function's environment is resolved from here; a parameter missing here fails
 * the rehearsal).
 * `secretValues` says what each secret serves, by the environment variable that names it: the logical ids
 * of the secrets, and whether a secret is given as an input or created by the stack, may change freely.
 */

/** Where the local stand-ins of this run listen, known once they are started. */
export interface LocalEndpoints {
  /** The local OIDC issuer: discovery at `${jwtIssuer}.well-known/openid-configuration`. */
  jwtIssuer: string;
  scyllaContactPoints: string;
  scyllaLocalDc: string;
  /** A fresh keyspace for this run (dropped at the end). */
  scyllaKeyspace: string;
  upstashUrl: string;
  upstashToken: string;
  /** The CQL TLS proxy's port (test/deploy/tls.ts): the deployed CQL port (9142, TLS) maps to it. */
  scyllaTlsPort: number;
  /** The host name the CQL proxy's certificate names (the deployed scyllaTlsServerName maps to it). */
  scyllaTlsServerName: string;
  /** The PEM CA of the CQL proxy's certificate: the value of the Scylla CA secret. */
  scyllaCaPem: string;
  /**
   * The fresh database of this run, as the RDS secret names it: the host and port of the PostgreSQL TLS proxy
   * (test/deploy/tls.ts), the way Aurora's secret names the cluster endpoint.
   */
  database: { host: string; port: number; username: string; password: string; dbname: string };
  /** A local stand-in for the Telegram history source. */
  telegramHistoryUrl: string;
  /** The local Telegram Bot API stand-in (what https://api.telegram.org maps to). */
  telegramApiUrl: string;
  telegramWebhookSecret: string;
}

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
/** Fake, well-formed ARNs of secrets an operator creates before the first deploy. */
const secretArn = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-Ab12Cd`;

/** The account and region the rehearsal deploys to (CDK_DEFAULT_ACCOUNT / _REGION of the synth). */
export const REHEARSAL_ACCOUNT = ACCOUNT;
export const REHEARSAL_REGION = REGION;

/** The JWT audiences; tokens of the local issuer are minted for them. */
export const JWT_AUDIENCE = 'messages-api';
export const JWT_SERVICE_AUDIENCE = 'messages-service';

const DEPLOYED = {
  jwtIssuer: 'https://auth.rehearsal.example.com/',
  // Addresses, as ScyllaDB Cloud lists its nodes, with the name their certificates carry (scyllaTlsServerName).
  scyllaContactPoints: '10.20.1.10,10.20.2.10,10.20.3.10',
  scyllaTlsServerName: 'scylla.rehearsal.example.internal',
  // The encrypted CQL port (the stack's default with TLS).
  scyllaPort: '9142',
  scyllaLocalDc: 'AWS_EU_WEST_1',
  scyllaKeyspace: 'chat_rehearsal',
  scyllaReplication: 'AWS_EU_WEST_1:3',
  upstashUrl: 'https://eu1-rehearsal-12345.upstash.io',
  telegramHistoryUrl: 'https://telegram-history.rehearsal.example.com',
  // What the stack sets TELEGRAM_API_URL to on the functions that call the Bot API.
  telegramApiUrl: 'https://api.telegram.org',
};

/**
 * What an operator passes to `cdk deploy` (context key → value): realistic values, as the settings module
 * validates them (https URLs, a network rule for Scylla, …). Static, so an assembly can be reused.
 */
export const DEPLOY_CONTEXT: Record<string, string> = {
  stackName: 'MessageStore',
  jwtIssuer: DEPLOYED.jwtIssuer,
  jwtAudience: JWT_AUDIENCE,
  jwtServiceAudience: JWT_SERVICE_AUDIENCE,
  scyllaContactPoints: DEPLOYED.scyllaContactPoints,
  scyllaLocalDc: DEPLOYED.scyllaLocalDc,
  scyllaKeyspace: DEPLOYED.scyllaKeyspace,
  scyllaReplication: DEPLOYED.scyllaReplication,
  scyllaCredentialsSecretArn: secretArn('messages/scylla-credentials'),
  // TLS as deployed (the stack's default, said explicitly): the local node is reached through a TLS proxy
  // whose throw-away CA is the value of this secret (test/deploy/tls.ts).
  scyllaTls: 'true',
  scyllaCaSecretArn: secretArn('messages/scylla-ca'),
  scyllaTlsServerName: DEPLOYED.scyllaTlsServerName,
  scyllaPort: DEPLOYED.scyllaPort,
  scyllaCidrs: '10.20.0.0/16',
  // The VPC peered with the cluster (its addresses are private), as an operator gives it.
  vpcId: 'vpc-0a1b2c3d4e5f60718',
  vpcAvailabilityZones: 'eu-west-1a,eu-west-1b',
  vpcPrivateSubnetIds: 'subnet-0a1b2c3d4e5f60711,subnet-0a1b2c3d4e5f60722',
  // No databaseSecretArn: the stack's default path (it creates Aurora and its generated secret). TLS on (the
  // default, not given); CA `system`, not `rds`: the RDS bundle shipped in the code cannot vouch for the local
  // proxy's throw-away CA, which the functions trust through NODE_EXTRA_CA_CERTS, as a Lambda can be made to.
  databaseCa: 'system',
  upstashUrl: DEPLOYED.upstashUrl,
  upstashTokenSecretArn: secretArn('messages/upstash-token'),
  telegramBotTokenSecretArn: secretArn('messages/telegram-bot-token'),
  telegramHistoryUrl: DEPLOYED.telegramHistoryUrl,
  telegramHistoryTokenSecretArn: secretArn('messages/telegram-history-token'),
  alarmEmail: 'oncall@example.com',
};

/** The bot token the bot token secret serves; the local Bot API answers 401 to any other. */
export const REHEARSAL_BOT_TOKEN = '123456789:AAHrehearsal-bot-token_0123456789abc';

export function deployInputs(local: LocalEndpoints): {
  context: Record<string, string>;
  parameters: Record<string, string>;
  localEquivalents: Record<string, string>;
  secretValues: Record<string, string>;
} {
  return {
    context: DEPLOY_CONTEXT,
    // The CloudFormation parameters a stack may still make for settings it reads as parameters.
    parameters: {
      ScyllaContactPoints: DEPLOYED.scyllaContactPoints,
      ScyllaLocalDc: DEPLOYED.scyllaLocalDc,
      UpstashUrl: DEPLOYED.upstashUrl,
      JwtIssuer: DEPLOYED.jwtIssuer,
      JwtAudience: JWT_AUDIENCE,
    },
    /**
     * A deployed value (a whole environment value, after the intrinsics are resolved) → its local equivalent.
     * Only these values are changed; everything else reaches the function as the template says.
     */
    localEquivalents: {
      [DEPLOYED.jwtIssuer]: local.jwtIssuer,
      [DEPLOYED.scyllaContactPoints]: local.scyllaContactPoints,
      [DEPLOYED.scyllaTlsServerName]: local.scyllaTlsServerName,
      // SCYLLA_PORT: the deployed encrypted port → the local CQL TLS proxy (no other variable holds this value).
      [DEPLOYED.scyllaPort]: String(local.scyllaTlsPort),
      [DEPLOYED.telegramApiUrl]: local.telegramApiUrl,
      [DEPLOYED.scyllaLocalDc]: local.scyllaLocalDc,
      [DEPLOYED.scyllaKeyspace]: local.scyllaKeyspace,
      // The local node is a one-node data centre, where RF 3 makes LOCAL_QUORUM unreachable.
      [DEPLOYED.scyllaReplication]: `${local.scyllaLocalDc}:1`,
      [DEPLOYED.upstashUrl]: local.upstashUrl,
      [DEPLOYED.telegramHistoryUrl]: local.telegramHistoryUrl,
    },
    secretValues: {
      DATABASE_URL_SECRET_ARN: JSON.stringify({ engine: 'postgres', ...local.database }),
      // Local Cassandra runs without authentication: the driver sends these only if the server asks.
      SCYLLA_CREDENTIALS_SECRET_ARN: JSON.stringify({ username: 'messages', password: 'rehearsal-password' }),
      SCYLLA_TLS_CA_SECRET_ARN: local.scyllaCaPem,
      UPSTASH_REDIS_REST_TOKEN_SECRET_ARN: local.upstashToken,
      TELEGRAM_WEBHOOK_SECRET_ARN: local.telegramWebhookSecret,
      // As BotFather issues them: <bot id>:<35 characters>.
      TELEGRAM_BOT_TOKEN_SECRET_ARN: REHEARSAL_BOT_TOKEN,
      TELEGRAM_HISTORY_TOKEN_SECRET_ARN: 'rehearsal-history-token',
    },
  };
}

/**
 * Environment variables naming a secret the stack may legitimately generate at random: a shared secret it owns
 * (the webhook's secret token). Any other secret a function reads that the stack generates at random cannot
 * hold a working value on the first deploy, and fails the rehearsal's wiring check.
 */
export const RANDOM_SECRET_ALLOWED = new Set(['TELEGRAM_WEBHOOK_SECRET_ARN']);
