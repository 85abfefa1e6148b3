/** `cdk synth` of the app into a fresh directory, with the deploy inputs as context, as CI would deploy it. */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const projectRoot = join(import.meta.dirname, '..', '..');

export interface SynthResult {
  outDir: string;
  stackName: string;
  templateFile: string;
  assetsFile: string | undefined;
  durationMs: number;
}

/** The local CDK CLI (node_modules), never one from the PATH. */
function cdkCli(): string {
  const cli = join(projectRoot, 'node_modules', 'aws-cdk', 'bin', 'cdk');
  if (!existsSync(cli)) throw new Error(`The AWS CDK CLI is not installed at ${cli}: run npm ci`);
  return cli;
}

export async function synthesize(
  outDir: string,
  context: Record<string, string>,
  target: { account: string; region: string },
  log: (line: string) => void,
): Promise<SynthResult> {
  const { account, region } = target;
  const started = Date.now();
  const args = [cdkCli(), 'synth', '--quiet', '-o', outDir, ...Object.entries(context).flatMap(([key, value]) => ['-c', `${key}=${value}`])];
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    // The region CI's credentials would name. No account: with one, the stack's context lookups (availability
    // zones) would need AWS credentials; without, they become CloudFormation functions. No metadata lookups.
    const env: NodeJS.ProcessEnv = { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', AWS_REGION: region, AWS_DEFAULT_REGION: region, CDK_DEFAULT_REGION: region, AWS_EC2_METADATA_DISABLED: 'true' };
    delete env.CDK_DEFAULT_ACCOUNT;
    void account;
    const child = spawn(process.execPath, args, { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'], env });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.on('error', reject);
    child.on('close', resolve);
  });
  const text = output.join('');
  if (code !== 0) {
    // Without the bundling progress (two lines and a timing per function), what is left is the reason.
    const reason = text.split('\n').filter((line) => line.trim() !== '' && !/^\s*\.\.\.|⚡ Done in|^Bundling asset /.test(line));
    throw new Error(`cdk synth failed (exit ${code}):\n${reason.slice(-60).join('\n')}`);
  }
  const warnings = text.split('\n').filter((line) => /\[Warning|\[Error/.test(line));
  for (const line of warnings.slice(0, 20)) log(`  synth: ${line.trim()}`);
  writeFileSync(join(outDir, 'rehearsal-inputs.json'), JSON.stringify(context));
  return { ...readAssembly(outDir), durationMs: Date.now() - started };
}

/** The context an assembly was synthesised with by this rehearsal (for REHEARSAL_CDK_OUT). */
export function inputsOf(outDir: string): Record<string, string> {
  const file = join(outDir, 'rehearsal-inputs.json');
  if (!existsSync(file)) throw new Error(`${outDir} was not synthesised by the rehearsal (no rehearsal-inputs.json)`);
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
}

export function readAssembly(outDir: string): SynthResult {

  const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')) as {
    artifacts?: Record<string, { type: string; properties?: { templateFile?: string }; dependencies?: string[] }>;
  };
  const stacks = Object.entries(manifest.artifacts ?? {}).filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack');
  if (stacks.length !== 1) throw new Error(`Expected one stack in ${outDir}/manifest.json, found ${stacks.map(([name]) => name).join(', ') || 'none'}`);
  const [stackName, stack] = stacks[0]!;
  const assets = Object.entries(manifest.artifacts ?? {}).find(
    ([name, artifact]) => artifact.type === 'cdk:asset-manifest' && (stack.dependencies ?? []).includes(name),
  );
  const assetsFile = assets ? (assets[1].properties as { file?: string } | undefined)?.file : undefined;
  return {
    outDir,
    stackName,
    templateFile: join(outDir, stack.properties?.templateFile ?? `${stackName}.template.json`),
    assetsFile: assetsFile ? join(outDir, assetsFile) : undefined,
    durationMs: 0,
  };
}
