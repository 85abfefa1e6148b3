// ESLint flat config: @eslint/js + typescript-eslint (type-aware) for correctness, and
// eslint-plugin-boundaries for the layering of the code base.
import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';

/**
 * Feature modules under lib/. Each is a vertical slice (its stores and domain helpers); a feature may use
 * its own modules and the layers below it, never another feature's modules (use-cases compose features).
 */
const FEATURES = [
  'channels',
  'messages',
  'reactions',
  'mentions',
  'pins',
  'read-positions',
  'search',
  'telegram',
  'ids',
  'ephemeral',
  'migrations',
  'reconciler',
  'health',
  'templates',
  'changes',
  'push',
];

/**
 * Layers, top to bottom. Every file is classified by its full path from the repository root; the first
 * matching descriptor wins (`files-single-match`), so the kernel files that live inside a feature folder
 * (lib/<feature>/model.ts, lib/ids/snowflake.ts) are listed before the feature folders.
 *
 *   infra, test                 may import the application (CDK reads the route table, the local server runs
 *                               the handlers, tests and benches exercise everything)
 *   functions                   Lambda entry points, the functions/http pipeline, functions/routes.ts
 *   use-cases                   lib/use-cases/** (and lib/rate-limit.ts: an application policy over Redis)
 *   feature                     lib/<feature>/** — stores and helpers of one feature
 *   clients                     store clients: lib/scylla, lib/postgres, lib/redis, lib/secrets.ts
 *   model                       pure kernel: domain models, ids, errors, log, metrics, auth, API schemas
 *   config                      lib/config.ts
 */
const LAYERS = [
  { category: 'config', pattern: 'lib/config.ts' },
  {
    category: 'model',
    pattern: [
      'lib/*/model.ts',
      'lib/ids/snowflake.ts',
      'lib/errors.ts',
      'lib/log.ts',
      'lib/observability/**',
      'lib/auth/**',
      'lib/api/**',
    ],
  },
  {
    category: 'clients',
    pattern: ['lib/scylla/**', 'lib/postgres/**', 'lib/redis/**', 'lib/events/**', 'lib/secrets.ts'],
  },
  // rate-limit.ts is called by the functions (before the use case runs) and talks to Redis through the
  // client layer, so it sits with the use cases: functions may import it, features may not.
  { category: 'use-cases', pattern: ['lib/use-cases/**', 'lib/rate-limit.ts'] },
  { category: 'feature', pattern: `lib/(${FEATURES.join('|')})/**`, capture: ['feature'] },
  { category: 'functions', pattern: 'functions/**' },
  { category: 'infra', pattern: 'infra/**' },
  { category: 'test', pattern: 'test/**' },
  // Root tool configuration (vitest.config.ts exports the worker count the integration setup reads).
  { category: 'tooling', pattern: '*.{ts,js}' },
];

/** Selector for a dependency target in one of the given layers. */
const to = (...categories) => categories.map((category) => ({ to: { file: { categories: category } } }));

/** Allowed dependencies, per importing layer. Anything not listed is disallowed (`default: 'disallow'`). */
const LAYERING = [
  {
    from: { file: { categories: 'functions' } },
    // Handlers go through use cases; they never reach into a feature's stores directly.
    allow: to('functions', 'use-cases', 'model', 'clients', 'config'),
  },
  {
    from: { file: { categories: 'use-cases' } },
    allow: to('use-cases', 'feature', 'model', 'clients', 'config'),
  },
  {
    from: { file: { categories: 'feature' } },
    allow: [
      // Only the importing file's own feature: lib/search may not import lib/messages/store.ts.
      { to: { file: { categories: 'feature', captured: { feature: '{{ from.file.captured.feature }}' } } } },
      ...to('model', 'clients', 'config'),
    ],
  },
  { from: { file: { categories: 'clients' } }, allow: to('clients', 'model', 'config') },
  { from: { file: { categories: 'model' } }, allow: to('model', 'config') },
  // config imports nothing internal.
  {
    from: { file: { categories: 'infra' } },
    allow: to('infra', 'functions', 'use-cases', 'feature', 'model', 'clients', 'config'),
  },
  {
    from: { file: { categories: 'test' } },
    allow: to('test', 'tooling', 'infra', 'functions', 'use-cases', 'feature', 'model', 'clients', 'config'),
  },
  {
    // Stated explicitly (the last matching policy wins): application code never depends on infra or tests.
    from: { file: { categories: ['functions', 'use-cases', 'feature', 'model', 'clients', 'config'] } },
    disallow: to('infra', 'test'),
    message: 'Application code (functions/, lib/) must not import infra/ or test/',
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.local/', 'dist/', 'coverage/', 'bench-results/'] },

  js.configs.recommended,

  // Plain JavaScript: this file, infra/local/ensure-deps.mjs (ESM) and infra/cdk/stubs/*.cjs (CommonJS).
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: { console: 'readonly', process: 'readonly' } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },

  // TypeScript: type-aware recommended rules through the TypeScript project service (tsconfig.json).
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Unhandled promises are the classic Lambda bug (work silently dropped after the response is sent).
      // `void promise` marks deliberate fire-and-forget.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // `async` without `await` is deliberate here: handlers and interface methods return promises by contract,
      // and an async function turns a synchronous throw (e.g. a failed webhook-secret check) into a rejection
      // that the middleware chain handles. Dropping `async` to please this rule would change behaviour.
      '@typescript-eslint/require-await': 'off',
      // `_`-prefixed names are deliberately unused (positional parameters, destructured-away fields).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },

  {
    // Tests and benches read HTTP response bodies, Lambda results, CloudFormation templates and bench JSON as
    // untyped data (several hundred accesses like `res.body.messages[0].id`); typing every body would duplicate
    // the API schemas in the tests for no safety gain. Production code keeps these rules.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },

  // Layering (eslint-plugin-boundaries), see LAYERS and LAYERING above.
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs', '**/*.cjs'],
    plugins: { boundaries },
    settings: {
      'boundaries/root-path': import.meta.dirname,
      'boundaries/files': LAYERS,
      'boundaries/files-single-match': true,
      'boundaries/legacy-templates': false,
      'boundaries/dependency-nodes': ['import', 'export', 'dynamic-import'],
      'import/resolver': {
        // Resolves the `#lib/*` / `#functions/*` imports of package.json and `.js` specifiers to `.ts` files.
        typescript: { project: `${import.meta.dirname}/tsconfig.json` },
      },
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          // Imports of local files that no layer claims are checked too (and so disallowed by default).
          checkUnknownLocals: true,
          policies: LAYERING,
        },
      ],
    },
  },
  {
    // Every file of the application must belong to a layer: a new lib/ folder has to be placed explicitly
    // (as a feature, the kernel, a client…) instead of slipping past the layering unclassified.
    files: ['lib/**', 'functions/**'],
    rules: { 'boundaries/no-unknown-files': 'error' },
  },
);
