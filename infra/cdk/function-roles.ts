/**
 * Execution roles shared by functions that are granted exactly the same things: every function with the
 * same stores, the same declared secrets and no grant of its own (a queue, a bot token) gets one role. A
 * role and its policy per function were two of the ~10 CloudFormation resources each route cost; sharing
 * them changes no permission (a function can read exactly what it could before) and keeps the stack far
 * from CloudFormation's 500-resource limit. Functions with a grant of their own get a role of their own;
 * a grant many functions share (publishing to the changes bus) is part of the key, so only the functions
 * granted it share a role that has it.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

const managed = (name: string) => iam.ManagedPolicy.fromAwsManagedPolicyName(`service-role/${name}`);

export class FunctionRoles {
  private readonly roles = new Map<string, iam.Role>();

  constructor(private readonly scope: Construct) {}

  /**
   * The role for `key` (e.g. `scylla-postgres-redis`), created on first use with the basic Lambda policy
   * and, for functions in the VPC, the network-interface policy (what Lambda would have attached itself).
   */
  roleFor(key: string, inVpc: boolean): iam.Role {
    let role = this.roles.get(key);
    if (!role) {
      const id = key.replace(/(^|[^A-Za-z0-9])([A-Za-z0-9])/g, (_, __, char: string) => char.toUpperCase()).replace(/[^A-Za-z0-9]/g, '');
      role = new iam.Role(this.scope, `FunctionRole${id || 'NoStores'}`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Message-store Lambdas reaching: ${key || 'no store'}`,
        managedPolicies: [managed('AWSLambdaBasicExecutionRole'), ...(inVpc ? [managed('AWSLambdaVPCAccessExecutionRole')] : [])],
      });
      this.roles.set(key, role);
    }
    return role;
  }
}

/** A grant shared by many functions, given to their role once (see MessagesStack). */
export type SharedGrant = 'changes-bus';

/**
 * The sharing key of a function: what it reaches and reads, then the shared grants it has after a `+`
 * (`postgres-redis-scylla+changes-bus`). Without grants the key is what it always was, so no role moves.
 */
export function roleKey(stores: readonly string[], secrets: readonly string[], grants: readonly SharedGrant[] = []): string {
  const reaches = [...[...stores].sort(), ...[...secrets].sort()].join('-');
  return grants.length > 0 ? `${reaches}+${[...grants].sort().join('+')}` : reaches;
}
