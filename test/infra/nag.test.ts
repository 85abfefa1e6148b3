/** cdk-nag's AwsSolutions pack over the whole stack: no finding may remain unacknowledged. */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { MessagesStack } from '../../infra/cdk/messages-stack.js';
import { acknowledgeNagFindings } from '../../infra/cdk/nag.js';
import { exampleSettings } from './example-settings.js';

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding, and every acknowledgement carries its reason', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'nag-'));
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new MessagesStack(app, 'Nagged', {
      settings: exampleSettings(),
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const acknowledged = acknowledgeNagFindings(stack);
    let failure: unknown;
    try {
      app.synth();
    } catch (error) {
      failure = error;
    }
    const reportFile = readdirSync(outdir).find((name) => name.includes('policy-validation-report'));
    const report = reportFile ? readFileSync(join(outdir, reportFile), 'utf8') : '';
    expect(failure, report.slice(0, 4000)).toBeUndefined();
    for (const entry of acknowledged) expect(entry.reason.length, entry.id).toBeGreaterThan(30);
  });
});
