/** Starting and stopping the fault suite's three nodes, from inside the tests. */
import { clusterSpecs, tcpPortOpen, nodeAddress, startNode, stopNode } from '../../infra/local/cassandra.js';

export const FAULT_CLUSTER = 'faults';
export const specs = clusterSpecs(3, FAULT_CLUSTER);

export async function stop(index: number): Promise<void> {
  await stopNode(FAULT_CLUSTER, index);
}

export async function start(index: number): Promise<void> {
  await startNode(specs[index - 1]!, { heap: process.env.CASSANDRA_HEAP ?? '768M', log: () => undefined });
}

export async function isUp(index: number): Promise<boolean> {
  return tcpPortOpen(nodeAddress(index));
}
