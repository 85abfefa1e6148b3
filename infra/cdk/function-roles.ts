/**
 * Execution roles shared by functions that are granted exactly the same things: every function with the
 * same stores, the same declared secrets and no grant of its own (a queue, a bot token) gets one role. A
 * role and its policy per function were two of the ~10 CloudFormation resources each route cost; sharing
 * them changes no permission (a function can read exactly what it could before) and keeps the stack far
 * from CloudFormation's 500-resource limit. Functions with a grant of their own get a role of their own.
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

/** The sharing key of a function: what it reaches and reads. */
export function roleKey(stores: readonly string[], secrets: readonly string[]): string {
  return [...[...stores].sort(), ...[...secrets].sort()].join('-');
}
