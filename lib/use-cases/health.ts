/**
 * Readiness: each store answers a trivial request within a short timeout, checked in parallel. The probe is
 * anonymous, so it answers only each store's status: a store's error text names hosts, ports, roles and
 * databases, which is for the operator's log, not for anyone on the internet.
 */
import { getConfig } from '../config.js';
import { log } from '../log.js';
import { probePostgres, probeRedis, probeScylla } from '../health/probes.js';

export const PROBE_TIMEOUT_MS = 800;

export type CheckResult = { status: 'ok'; latency_ms: number } | { status: 'unavailable' | 'disabled' };

async function timed(store: string, probe: () => Promise<unknown>): Promise<CheckResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
      }),
    ]);
    return { status: 'ok', latency_ms: Math.round((performance.now() - started) * 10) / 10 };
  } catch (error) {
    log().warn('readiness: store unavailable', { store, error: error instanceof Error ? error.message : String(error) });
    return { status: 'unavailable' };
  } finally {
    clearTimeout(timer);
  }
}

export async function checkReadiness(): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
  const scyllaEnabled = getConfig().scylla.enabled;
  const [scylla, postgres, redis] = await Promise.all([
    scyllaEnabled ? timed('scylla', probeScylla) : Promise.resolve<CheckResult>({ status: 'disabled' }),
    timed('postgres', probePostgres),
    timed('redis', probeRedis),
  ]);
  const checks = { scylla, postgres, redis };
  return { ready: Object.values(checks).every((check) => check.status === 'ok'), checks };
}
