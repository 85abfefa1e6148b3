/** Creates through the local HTTP server, driven by autocannon in a separate process. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { mintToken } from '../../infra/local/jwt.js';
import { startApiServer } from '../../infra/local/server.js';
import { projectRoot } from '../../infra/cdk/bundling.js';
import { round } from './stats.js';

function autocannon(args: string[]): Promise<{ requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(projectRoot, 'node_modules', 'autocannon', 'autocannon.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.on('exit', (code) => {
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`autocannon exited ${code}`));
      }
    });
  });
}

export async function measureHttpThroughput(channelId: string, userId: string, say: (line: string) => void) {
  const server = await startApiServer();
  const token = await mintToken({ sub: userId });
  const out: Record<string, { perSecond: number; p50: number; p99: number; non2xx: number }> = {};
  try {
    for (const connections of [1, 8, 32, 64]) {
      const result = await autocannon([
        '-j', '-c', String(connections), '-d', '4', '-m', 'POST',
        '-H', `authorization=Bearer ${token}`, '-H', 'content-type=application/json',
        '-b', JSON.stringify({ content: 'through HTTP' }),
        `${server.url}/channels/${channelId}/messages`,
      ]);
      out[connections] = { perSecond: round(result.requests.average, 0), p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx };
      say(`  HTTP c=${connections}: ${out[connections].perSecond}/s, p99 ${result.latency.p99} ms`);
    }
  } finally {
    await server.close();
  }
  return out;
}
