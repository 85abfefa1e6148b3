/**
 * The cdk-nag AwsSolutions findings this stack accepts, each with its reason. Anything not listed here fails
 * the nag test (test/infra/nag.test.ts).
 */
import { Validations, type Stack } from 'aws-cdk-lib';

export interface Acknowledgement {
  id: string;
  reason: string;
}

export const NAG_ACKNOWLEDGEMENTS: Acknowledgement[] = [
  {
    id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: 'AWS-maintained minimal policy for a Lambda to write its own CloudWatch Logs; a copy would only drift from it.',
  },
  {
    id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
    reason: 'AWS-maintained minimal policy for a Lambda in a VPC to manage its network interfaces; needed to reach Scylla and PostgreSQL.',
  },
  {
    id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
    reason: 'X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) do not support resource-level permissions; nothing else is granted on *.',
  },
  {
    id: 'AwsSolutions::AwsSolutions-IAM5[Resource::<MigrateFunctionE2483A46.Arn>:*]',
    reason: 'The custom-resource Provider framework invokes versions and aliases of the migration function only (its own ARN with a qualifier).',
  },
  {
    id: 'AwsSolutions::AwsSolutions-L1',
    reason: 'Pinned to nodejs22.x (supported until 2027-04-30) to match the Node major the tests and benchmarks run on; moves with the toolchain.',
  },
  {
    id: 'AwsSolutions::AwsSolutions-SMG4',
    reason: 'These secrets hold credentials issued by other systems (Scylla, PostgreSQL, Upstash, Telegram); their owners rotate them and the functions re-read them on cold start.',
  },
  {
    id: 'AwsSolutions::AwsSolutions-APIG4',
    reason: 'Only the health probes, the OpenAPI document, its docs page and the Telegram webhook (authenticated by its secret token header) are open; every other route uses the JWT authorizer.',
  },
];

export function acknowledgeNagFindings(stack: Stack): Acknowledgement[] {
  for (const acknowledgement of NAG_ACKNOWLEDGEMENTS) Validations.of(stack).acknowledge(acknowledgement);
  return NAG_ACKNOWLEDGEMENTS;
}
