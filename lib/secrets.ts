/**
 * Secrets come from AWS Secrets Manager in a deployment (the `*_SECRET_ARN` variables) and from plain
 * variables locally. Each secret is fetched once per container; the AWS SDK ships with the Lambda runtime,
 * so it is imported lazily and left out of the bundles.
 */
import type { Config } from './config.js';

const cache = new Map<string, Promise<string>>();

async function fetchSecret(arn: string): Promise<string> {
  let pending = cache.get(arn);
  if (!pending) {
    pending = (async () => {
      const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
      const client = new SecretsManagerClient({});
      const result = await client.send(new GetSecretValueCommand({ SecretId: arn }));
      if (!result.SecretString) throw new Error(`Secret ${arn} has no string value`);
      return result.SecretString;
    })();
    pending.catch(() => cache.delete(arn));
    cache.set(arn, pending);
  }
  return pending;
}

/**
 * Drops a cached secret, so the next read fetches it again: after a rotation (Aurora's credentials are
 * rotated by Secrets Manager) the container's copy is stale and the database refuses it.
 */
export function forgetSecret(arn: string): void {
  cache.delete(arn);
}

/** Scylla credentials: `{"username","password"}` JSON in Secrets Manager, or the plain variables. */
export async function resolveScyllaCredentials(
  config: Config['scylla'],
): Promise<{ username: string; password: string } | undefined> {
  if (config.credentials) return config.credentials;
  if (!config.credentialsSecretArn) return undefined;
  const parsed = JSON.parse(await fetchSecret(config.credentialsSecretArn)) as { username?: unknown; password?: unknown };
  if (typeof parsed.username !== 'string' || typeof parsed.password !== 'string') {
    throw new Error('SCYLLA_CREDENTIALS_SECRET_ARN must hold JSON with string "username" and "password"');
  }
  return { username: parsed.username, password: parsed.password };
}

/** The fields of an RDS-managed database secret that the URL is built from. */
interface RdsSecret {
  username?: string;
  password?: string;
  host?: string;
  port?: number;
  dbname?: string;
}

export async function resolveDatabaseUrl(config: Config['postgres']): Promise<string> {
  if (config.url) return config.url;
  if (!config.urlSecretArn) throw new Error('DATABASE_URL is not configured');
  const secret = await fetchSecret(config.urlSecretArn);
  // An RDS-managed secret is JSON; a hand-made one may be the URL itself.
  if (!secret.trim().startsWith('{')) return secret.trim();
  const fields = JSON.parse(secret) as RdsSecret;
  const user = encodeURIComponent(String(fields.username));
  const password = encodeURIComponent(String(fields.password));
  return `postgres://${user}:${password}@${String(fields.host)}:${String(fields.port ?? 5432)}/${String(fields.dbname ?? 'postgres')}`;
}

export async function resolveRedisToken(config: Config['redis']): Promise<string> {
  if (config.token) return config.token;
  if (!config.tokenSecretArn) throw new Error('UPSTASH_REDIS_REST_TOKEN is not configured');
  return (await fetchSecret(config.tokenSecretArn)).trim();
}

export async function resolveTelegramWebhookSecret(config: Config['telegram']): Promise<string | undefined> {
  if (config.webhookSecret) return config.webhookSecret;
  if (!config.webhookSecretArn) return undefined;
  return (await fetchSecret(config.webhookSecretArn)).trim();
}

export async function resolveTelegramBotToken(config: Config['telegram']): Promise<string | undefined> {
  if (config.botToken) return config.botToken;
  if (!config.botTokenSecretArn) return undefined;
  return (await fetchSecret(config.botTokenSecretArn)).trim();
}

/** The PEM CA bundle Scylla's certificates are checked against, when not the system store. */
export async function resolveScyllaCa(config: Config['scylla']): Promise<string | undefined> {
  if (!config.tls.caSecretArn) return undefined;
  return (await fetchSecret(config.tls.caSecretArn)).trim();
}

/** The bearer token of the Telegram history service (a secret: it reads every bridged chat's history). */
export async function resolveTelegramHistoryToken(config: Config['telegram']): Promise<string | undefined> {
  if (config.historyToken) return config.historyToken;
  if (!config.historyTokenSecretArn) return undefined;
  return (await fetchSecret(config.historyTokenSecretArn)).trim();
}
