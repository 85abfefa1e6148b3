/**
 * The esbuild settings every Lambda is bundled with, in one place: the deployment's assets are built with them
 * (infra/build/build-function.ts, run by infra/cdk/operation-function.ts) and the benchmark uses them to
 * measure exactly what deploys.
 */
import { basename, dirname, extname, join } from 'node:path';
import type { BuildOptions } from 'esbuild';
import { leanBundlePlugins } from '../build/lean-bundle.js';

export const projectRoot = join(import.meta.dirname, '..', '..');

/** CommonJS dependencies (cassandra-driver, pg) call require(); ESM output needs it defined. */
export const ESM_REQUIRE_BANNER = "import{createRequire as __cr}from'module';const require=__cr(import.meta.url);";

/** The AWS SDK ships with the Lambda runtime. */
export const EXTERNAL_MODULES = ['@aws-sdk/*'];

export const ALIASES: Record<string, string> = {
  'adm-zip': join(projectRoot, 'infra', 'cdk', 'stubs', 'adm-zip.cjs'),
};

/**
 * Build-time constants. With tracing off, `__TRACER_BUNDLED__` false turns the Powertools Tracer import in
 * functions/http/middleware/tracing.ts into dead code, which esbuild leaves out (~128 KB with the X-Ray SDK).
 */
export function buildDefines(tracing: boolean): Record<string, string> {
  return { __TRACER_BUNDLED__: String(tracing) };
}

/**
 * The same settings as esbuild API options. `outfile` names the entry bundle (index.mjs); code reached only
 * through a dynamic import (the Powertools Tracer and X-Ray SDK, loaded on the first request when tracing is
 * on) goes to chunks/ beside it, so a cold start neither reads nor parses it before it is needed. Source maps
 * are written beside every file (see README, "Source maps").
 */
export function esbuildOptions(entry: string, outfile: string, tracing = true): BuildOptions {
  const extension = extname(outfile);
  return {
    entryPoints: [entry],
    outdir: dirname(outfile),
    entryNames: basename(outfile, extension),
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': extension },
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    sourcemap: true,
    mainFields: ['module', 'main'],
    external: EXTERNAL_MODULES,
    alias: ALIASES,
    define: buildDefines(tracing),
    banner: { js: ESM_REQUIRE_BANNER },
    plugins: leanBundlePlugins(),
    logLevel: 'silent',
  };
}
