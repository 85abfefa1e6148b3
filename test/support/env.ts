/** Runs `fn` with environment overrides installed as the process configuration, then restores both. */
import { loadConfig } from '../../lib/config.js';

/** `reset` closes what was built from the old settings (clients, pools), before and after `fn`. */
export async function withEnv<T>(overrides: Record<string, string>, reset: () => Promise<void>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(overrides).map((name) => [name, process.env[name]]));
  Object.assign(process.env, overrides);
  loadConfig();
  await reset();
  try {
    return await fn();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    loadConfig();
    await reset();
  }
}
