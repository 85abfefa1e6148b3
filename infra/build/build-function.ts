/**
 * Builds one function's Lambda bundle: `node --import tsx infra/build/build-function.ts <handler> <outDir>
 * <tracing: true|false>` writes <outDir>/index.mjs (handler `index.handler`), its chunks and source maps,
 * and the files the bundle reads beside it (infra/build/lean-bundle.ts). CDK runs it for each function's asset
 * (infra/cdk/operation-function.ts): asset bundling must be synchronous, and esbuild's plugins only run in its
 * asynchronous API, so the build is a child process.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { esbuildOptions, projectRoot } from '../cdk/bundling.js';

/** The file a function's bundle starts from, and the one Lambda loads (handler `index.handler`). */
export const ENTRY_FILE = 'index.mjs';

export async function buildFunction(handler: string, outDir: string, tracing: boolean): Promise<void> {
  if (!/^[a-z0-9-]+$/.test(handler)) throw new Error(`Not a function name: ${JSON.stringify(handler)}`);
  await build(esbuildOptions(join(projectRoot, 'functions', `${handler}.ts`), join(outDir, ENTRY_FILE), tracing));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [handler, outDir, tracing] = process.argv.slice(2);
  if (!handler || !outDir || (tracing !== 'true' && tracing !== 'false')) {
    console.error('usage: build-function.ts <handler> <outDir> <true|false: tracing>');
    process.exit(2);
  }
  await buildFunction(handler, outDir, tracing === 'true');
}
