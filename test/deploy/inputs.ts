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
  /** The fresh database of this run, as the RDS secret names it. */
  database: { host: string; port: number; username: string; password: string; dbname: string };
  /** A local stand-in for the Telegram history source. */
  telegramHistoryUrl: string;
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
  scyllaContactPoints: 'scylla-0.rehearsal.example.internal,scylla-1.rehearsal.example.internal,scylla-2.rehearsal.example.internal',
  scyllaLocalDc: 'AWS_EU_WEST_1',
  scyllaKeyspace: 'chat_rehearsal',
  scyllaReplication: 'AWS_EU_WEST_1:3',
  upstashUrl: 'https://eu1-rehearsal-12345.upstash.io',
  telegramHistoryUrl: 'https://telegram-history.rehearsal.example.com',
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
  // The local stores have no TLS: turned off explicitly, as an operator would for a plain-text cluster.
  scyllaTls: 'false',
  scyllaCidrs: '10.20.0.0/16',
  // No databaseSecretArn: the stack's default path (it creates Aurora and its generated secret).
  databaseTls: 'false',
  databaseCa: 'rds',
  upstashUrl: DEPLOYED.upstashUrl,
  upstashTokenSecretArn: secretArn('messages/upstash-token'),
  telegramBotTokenSecretArn: secretArn('messages/telegram-bot-token'),
  telegramHistoryUrl: DEPLOYED.telegramHistoryUrl,
  telegramHistoryTokenSecretArn: secretArn('messages/telegram-history-token'),
  alarmEmail: 'oncall@example.com',
};

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
      UPSTASH_REDIS_REST_TOKEN_SECRET_ARN: local.upstashToken,
      TELEGRAM_WEBHOOK_SECRET_ARN: local.telegramWebhookSecret,
      TELEGRAM_BOT_TOKEN_SECRET_ARN: '123456789:rehearsal-bot-token',
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
