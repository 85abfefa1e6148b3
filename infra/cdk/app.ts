/** The CDK app: `npx cdk synth` / `npx cdk deploy`. Settings come from context (-c key=value or cdk.json). */
import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Validations } from 'aws-cdk-lib';
import { MessagesStack, type MessagesStackProps } from './messages-stack.js';
import { acknowledgeNagFindings } from './nag.js';

const app = new App();
const context = (name: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') throw new Error(`context ${name} must be a string`);
  return String(value);
};
const list = (name: string): string[] | undefined => context(name)?.split(',').map((item) => item.trim());
/** `-c name=true|false` arrives as a string, a cdk.json entry as a boolean. */
const flag = (name: string): boolean | undefined => {
  const value: unknown = app.node.tryGetContext(name);
  if (value === undefined || value === null || value === '') return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`Context ${name} must be true or false, not ${JSON.stringify(value)}`);
};

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
  metricsNamespace: context('metricsNamespace'),
  tracing: flag('tracing'),
  apiGatewayCloudWatchRole: flag('apiGatewayCloudWatchRole'),
};

const stack = new MessagesStack(app, context('stackName') ?? 'MessageStore', {
  settings,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
// Every synth and deploy is checked against AWS Solutions; accepted findings carry their reasons.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
acknowledgeNagFindings(stack);
