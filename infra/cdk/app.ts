/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy`. Every deploy input comes from context (`-c key=value` or
 * `cdk.context.json`) and is checked by readDeploySettings before anything is built: a missing or
 * contradictory input stops the synth with one message naming all of them (README, "Deploying").
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MessagesStack } from './messages-stack.js';
import { acknowledgeNagFindings } from './nag.js';
import { DeploySettingsError, readDeploySettings, type DeploySettings } from './settings.js';

const app = new App();
let settings: DeploySettings;
try {
  settings = readDeploySettings((key) => app.node.tryGetContext(key));
} catch (error) {
  if (!(error instanceof DeploySettingsError)) throw error;
  // The message is the whole answer: no stack trace in front of it.
  console.error(`\n${error.message}\n`);
  process.exit(1);
}
const stackName: unknown = app.node.tryGetContext('stackName');

const stack = new MessagesStack(app, typeof stackName === 'string' && stackName.trim() !== '' ? stackName.trim() : 'MessageStore', {
  settings,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
// Every synth and deploy is checked against AWS Solutions; accepted findings carry their reasons.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
acknowledgeNagFindings(stack);
