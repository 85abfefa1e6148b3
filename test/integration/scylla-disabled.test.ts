import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.js';
import { StoreUnavailableError } from '../../lib/errors.js';
import { getScylla } from '../../lib/scylla/client.js';

describe('SCYLLA_ENABLED=false', () => {
  afterEach(() => {
    delete process.env.SCYLLA_ENABLED;
    loadConfig();
  });

  it('makes every Scylla access a 503 unavailable without touching the network', async () => {
    process.env.SCYLLA_ENABLED = 'false';
    loadConfig();
    const attempt = getScylla();
    await expect(attempt).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(attempt).rejects.toMatchObject({ status: 503, code: 'unavailable', store: 'scylla' });
  });
});
