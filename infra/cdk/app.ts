/** The CDK app: `npx cdk synth` / `npx cdk deploy`. Settings come from context (-c key=value or cdk.json). */
import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Validations } from 'aws-cdk-lib';
import { MessagesStack, type MessagesStackProps } from './messages-stack.js';
import { acknowledgeNagFindings } from './nag.js';

const app = new App();
const context = (name: string): string | undefined => app.node.tryGetContext(name) ?? undefined;
const list = (name: string): string[] | undefined => context(name)?.split(',').map((item) => item.trim());

const settings: MessagesStackProps['settings'] = {
  jwtIssuer: context('jwtIssuer'),
  jwtAudience: context('jwtAudience'),
  vpcId: context('vpcId'),
  vpcAvailabilityZones: list('vpcAvailabilityZones'),
  vpcPrivateSubnetIds: list('vpcPrivateSubnetIds'),
  scyllaContactPoints: context('scyllaContactPoints'),
  scyllaLocalDc: context('scyllaLocalDc'),
  scyllaKeyspace: context('scyllaKeyspace'),
  scyllaReplication: context('scyllaReplication'),
  scyllaSecurityGroupId: context('scyllaSecurityGroupId'),
  scyllaCredentialsSecretArn: context('scyllaCredentialsSecretArn'),
  databaseSecretArn: context('databaseSecretArn'),
  databaseSecurityGroupId: context('databaseSecurityGroupId'),
  upstashUrl: context('upstashUrl'),
  upstashTokenSecretArn: context('upstashTokenSecretArn'),
  telegramBotTokenSecretArn: context('telegramBotTokenSecretArn'),
  telegramHistoryUrl: context('telegramHistoryUrl'),
  alarmEmail: context('alarmEmail'),
  logRetentionDays: context('logRetentionDays') ? Number(context('logRetentionDays')) : undefined,
};

const stack = new MessagesStack(app, context('stackName') ?? 'MessageStore', {
  settings,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
// Every synth and deploy is checked against AWS Solutions; accepted findings carry their reasons.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
acknowledgeNagFindings(stack);
