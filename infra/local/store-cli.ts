/** `npm run store -- start|stop|status [--nodes N] [--fresh]`: manages the loopback Cassandra nodes. */
import { clusterSpecs, tcpPortOpen, nodeAddress, runningPid, startNode, stopNode } from './cassandra.js';

const [command = 'status', ...rest] = process.argv.slice(2);
const nodesArg = rest.indexOf('--nodes');
const nodes = nodesArg >= 0 ? Number(rest[nodesArg + 1]) : 1;
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9) {
  console.error('store: --nodes takes an integer from 1 to 9');
  process.exit(2);
}

async function main(): Promise<void> {
  const specs = clusterSpecs(nodes);
  switch (command) {
    case 'start':
      for (const spec of specs) {
        if (await tcpPortOpen(nodeAddress(spec.index))) {
          console.error(`store: node ${spec.index} already answers on ${nodeAddress(spec.index)}:9042`);
          continue;
        }
        await startNode(spec, { fresh: rest.includes('--fresh') });
      }
      return;
    case 'stop':
      for (const spec of specs.reverse()) {
        const stopped = await stopNode(spec.cluster, spec.index);
        console.error(`store: node ${spec.index} ${stopped ? 'stopped' : 'was not running (or not ours)'}`);
      }
      return;
    case 'status':
      for (const spec of specs) {
        const open = await tcpPortOpen(nodeAddress(spec.index));
        console.log(`node ${spec.index} ${nodeAddress(spec.index)}:9042 pid=${runningPid(spec.cluster, spec.index) ?? '-'} cql=${open ? 'up' : 'down'}`);
      }
      return;
    default:
      console.error('usage: npm run store -- start|stop|status [--nodes N] [--fresh]');
      process.exit(2);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
