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
    id: 'AwsSolutions::AwsSolutions-IAM5[Resource::<RegisterTelegramWebhookFunctionADAA60FA.Arn>:*]',
    reason: 'The custom-resource Provider framework invokes versions and aliases of the webhook-registration function only (its own ARN with a qualifier).',
  },
  {
    id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    reason: "AWS-maintained policy of API Gateway's account-wide logging role, which a WebSocket stage needs before it may write access logs; API Gateway alone assumes it.",
  },
  ...['POST', 'DELETE'].map((method) => ({
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<WebSocketApi34BCF99B>/live/${method}/@connections/*]`,
    reason: `execute-api:ManageConnections (${method}) on connections of this WebSocket API's stage only: connection ids are made at connect time, so no policy can name them.`,
  })),
  {
    id: 'AwsSolutions::AwsSolutions-L1',
    reason: 'Pinned to nodejs22.x (supported until 2027-04-30) to match the Node major the tests and benchmarks run on; moves with the toolchain.',
  },
  {
    id: 'AwsSolutions::AwsSolutions-SMG4',
    reason:
      'The secrets given as inputs hold credentials issued by other systems (Scylla, an existing PostgreSQL, Upstash, Telegram): their owners rotate them. The Telegram webhook secret is made here and handed to Telegram by the webhook registration; a redeploy that replaces it re-registers. (The Aurora secret made here is rotated every 30 days.)',
  },
  {
    id: 'AwsSolutions::AwsSolutions-RDS10',
    reason:
      'Deletion protection of the created Aurora cluster is the databaseDeletionProtection input, off by default: a protected cluster cannot be deleted by a rolled-back first deploy (the stack would stop in ROLLBACK_FAILED). Removal always takes a final snapshot (DeletionPolicy Snapshot); the README says to turn it on after the first deploy.',
  },
  {
    id: 'AwsSolutions::AwsSolutions-RDS6',
    reason:
      'The functions authenticate to Aurora with the rotated Secrets Manager password over verified TLS; IAM tokens would add a signing step to every new connection and cap new connections per second, which a burst of cold Lambdas would hit.',
  },
  {
    id: 'AwsSolutions::AwsSolutions-APIG4',
    reason:
      'Only the health probes, the OpenAPI document, its docs page and the Telegram webhook (authenticated by its secret token header) are open; every other HTTP route uses the JWT authorizer. On the WebSocket API only $connect can carry an authorizer (it does); the other route keys run on a connection it admitted.',
  },
];

export function acknowledgeNagFindings(stack: Stack): Acknowledgement[] {
  for (const acknowledgement of NAG_ACKNOWLEDGEMENTS) Validations.of(stack).acknowledge(acknowledgement);
  return NAG_ACKNOWLEDGEMENTS;
}
