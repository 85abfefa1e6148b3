/** Readiness: each store answers a trivial request within a short timeout, checked in parallel. */
import { getConfig } from '../config.js';
import { probePostgres, probeRedis, probeScylla } from '../health/probes.js';

export const PROBE_TIMEOUT_MS = 800;

export type CheckResult = { status: 'ok'; latency_ms: number } | { status: 'unavailable' | 'disabled'; error: string };

async function timed(probe: () => Promise<unknown>): Promise<CheckResult> {
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
    return { status: 'unavailable', error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

export async function checkReadiness(): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
  const scyllaEnabled = getConfig().scylla.enabled;
  const [scylla, postgres, redis] = await Promise.all([
    scyllaEnabled ? timed(probeScylla) : Promise.resolve<CheckResult>({ status: 'disabled', error: 'SCYLLA_ENABLED is false' }),
    timed(probePostgres),
    timed(probeRedis),
  ]);
  const checks = { scylla, postgres, redis };
  return { ready: Object.values(checks).every((check) => check.status === 'ok'), checks };
}
