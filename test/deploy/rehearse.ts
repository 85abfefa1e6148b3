/**
 * The deploy rehearsal (`npm run test:deploy`): synthesise the app with realistic deploy inputs pointed at
 * local stand-ins, then run every function's bundle from cdk.out in a fresh Node 22 process with exactly the
 * environment the template gives it (intrinsics resolved to local equivalents, secrets served by a local
 * Secrets Manager), and invoke: the migration custom resource (Create on empty stores, Update, Delete), every
 * HTTP route once, the WebSocket authorizer and routes, the fan-out, the purge, the scheduled reconciler and
 * the Telegram webhook registration (Create, Update, Delete against a local Bot API).
 * Both stores are reached over TLS, as deployed: PostgreSQL and Scylla sit behind TLS proxies with throw-away
 * CAs (test/deploy/tls.ts), and no function connection may bypass them.
 * Prints every function of the template and what was rehearsed for it; exits non-zero on any failure.
 *
 * REHEARSAL_CDK_OUT=<dir>: synthesise into <dir> and keep it; when <dir> already holds an assembly this script
 * made from the same inputs, reuse it instead of synthesising (for iterating on the rehearsal itself: a changed
 * source is not rebuilt then). KEEP_STORES=1: leave a Cassandra node it started running.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import cassandra from 'cassandra-driver';
import pg from 'pg';
import { LOCAL_UPSTASH_TOKEN, startLocalStores, type LocalStores } from '../../infra/local/stores.js';
import { publicJwks } from '../../infra/local/jwt.js';
import { uniqueName } from '../support/namespaces.js';
import { Harness, indent, type RehearsedFunction } from './harness.js';
import { DEPLOY_CONTEXT, deployInputs, JWT_AUDIENCE, JWT_SERVICE_AUDIENCE, RANDOM_SECRET_ALLOWED, REHEARSAL_ACCOUNT, REHEARSAL_BOT_TOKEN, REHEARSAL_REGION, type LocalEndpoints } from './inputs.js';
import { startLocalAws, type LocalAws } from './local-aws.js';
import { FunctionProcess, lambdaEnvironment, lambdaNode, RESERVED_VARIABLES, sdkNodeModules, writeBootstrap } from './runner.js';
import { HTTP_HANDLERS, runScenario, type ScenarioContext } from './scenario.js';
import { inputsOf, projectRoot, readAssembly, synthesize } from './synth.js';
import { lambdaFunctions, parseExecuteApiUrl, readTemplate, Resolver, UnresolvableError, type FunctionSpec, type Template } from './template.js';
import { connectionsOf, describeProxy, issueAuthority, startCqlTlsProxy, startPostgresTlsProxy, type Proxy } from './tls.js';

const STALE_AFTER_MINUTES = 120;
/** Functions known not to be rehearsable here, with the reason (printed in the table). */
const NOT_REHEARSABLE: Record<string, string> = {};

const log = (line: string) => console.log(line);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** functions/<name>.ts a bundle was built from: the last functions/*.ts source of its source map (esbuild's entry). */
function entryOf(spec: FunctionSpec): string | undefined {
  if (!spec.bundleDir) return undefined;
  for (const map of ['index.mjs.map', 'index.js.map', 'index.cjs.map']) {
    const file = join(spec.bundleDir, map);
    if (!existsSync(file)) continue;
    const sources = (JSON.parse(readFileSync(file, 'utf8')) as { sources?: string[] }).sources ?? [];
    const entries = sources.filter((source) => /(^|\/)functions\/[a-z0-9-]+\.ts$/.test(source));
    const last = entries.at(-1);
    if (last) return basename(last, '.ts');
  }
  return undefined;
}

async function createDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'test\\_r%\\_deploy\\_%'");
    for (const { datname } of rows) {
      const minute = /^test_r([0-9a-z]+)_/.exec(datname)?.[1];
      if (minute && Date.now() / 60_000 - parseInt(minute, 36) > STALE_AFTER_MINUTES) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

async function dropKeyspace(env: Record<string, string>, keyspace: string): Promise<void> {
  const client = new cassandra.Client({
    contactPoints: env.SCYLLA_CONTACT_POINTS!.split(','),
    protocolOptions: { port: Number(env.SCYLLA_PORT ?? 9042) },
    localDataCenter: env.SCYLLA_LOCAL_DC!,
    socketOptions: { readTimeout: 60_000 },
  });
  try {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  } finally {
    await client.shutdown();
  }
}

/** The resource a function's invocation comes from: a Custom:: resource through a CDK Provider, or directly. */
function customResources(template: Template, handlerOf: Map<string, string>, resolver: Resolver): ScenarioContext['customResources'] {
  const found: ScenarioContext['customResources'] = new Map();
  const functionOfArn = (value: unknown): string | undefined => {
    const getAtt = (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
    return getAtt && getAtt[1] === 'Arn' && template.Resources[getAtt[0]]?.Type === 'AWS::Lambda::Function' ? getAtt[0] : undefined;
  };
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (!resource.Type.startsWith('Custom::') && resource.Type !== 'AWS::CloudFormation::CustomResource') continue;
    const { ServiceToken: serviceToken, ...properties } = resource.Properties ?? {};
    const direct = functionOfArn(serviceToken);
    if (!direct) continue;
    // A Provider framework function names the user's onEvent function in its environment.
    const variables = ((template.Resources[direct]!.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
    const onEvent = functionOfArn(variables.USER_ON_EVENT_FUNCTION_ARN) ?? direct;
    const handler = handlerOf.get(onEvent);
    if (!handler) continue;
    found.set(handler, { logicalId, resourceType: resource.Type, serviceToken: String(resolver.resolve(serviceToken)), properties: resolver.resolve(properties) as Record<string, unknown> });
  }
  return found;
}

async function main(): Promise<number> {
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'deploy-rehearsal-'));
  let stores: LocalStores | undefined;
  let aws: LocalAws | undefined;
  let harness: Harness | undefined;
  let database: { adminUrl: string; name: string } | undefined;
  let keyspace: string | undefined;
  const proxies: Proxy[] = [];
  const busNames = new Set<string>();
  try {
    // The inputs are static: cdk synth (CPU-bound) runs while the stores come up (mostly waiting).
    let outDir = process.env.REHEARSAL_CDK_OUT;
    const reuse = outDir !== undefined && existsSync(join(outDir, 'rehearsal-inputs.json')) && JSON.stringify(inputsOf(outDir)) === JSON.stringify(DEPLOY_CONTEXT);
    outDir ??= join(work, 'cdk.out');
    if (outDir && !reuse) rmSync(outDir, { recursive: true, force: true });
    log(reuse ? `deploy rehearsal: reusing the assembly in ${outDir} (REHEARSAL_CDK_OUT)` : `deploy rehearsal: cdk synth with ${Object.keys(DEPLOY_CONTEXT).length} context inputs into ${outDir}, and the local stores…`);
    const synthesis = reuse
      ? Promise.resolve(readAssembly(outDir))
      : synthesize(outDir, DEPLOY_CONTEXT, { account: REHEARSAL_ACCOUNT, region: REHEARSAL_REGION }, log);
    synthesis.catch(() => undefined);
    stores = await startLocalStores({ log });
    await publicJwks();
    const env = stores.env;
    keyspace = uniqueName('deploy');
    const adminUrl = env.DATABASE_URL!;
    await createDatabase(adminUrl, keyspace);
    database = { adminUrl, name: keyspace };
    aws = await startLocalAws({ knownBusNames: () => busNames, botToken: () => REHEARSAL_BOT_TOKEN });
    const dbUrl = new URL(adminUrl);

    // TLS as deployed: a throw-away CA per store, and a TLS-terminating proxy in front of each local store.
    const postgresStore = { host: dbUrl.hostname, port: Number(dbUrl.port || 5432) };
    const cqlStore = { host: env.SCYLLA_CONTACT_POINTS!.split(',')[0]!.trim(), port: Number(env.SCYLLA_PORT ?? 9042) };
    const postgresAuthority = issueAuthority(join(work, 'tls', 'postgres'), 'PostgreSQL');
    const scyllaAuthority = issueAuthority(join(work, 'tls', 'scylla'), 'Scylla');
    const postgresProxy = await startPostgresTlsProxy(postgresAuthority, postgresStore);
    proxies.push(postgresProxy);
    const cqlProxy = await startCqlTlsProxy(scyllaAuthority, cqlStore);
    proxies.push(cqlProxy);
    log(`  TLS: PostgreSQL ${postgresStore.host}:${postgresStore.port} behind localhost:${postgresProxy.port}, CQL ${cqlStore.host}:${cqlStore.port} behind 127.0.0.1:${cqlProxy.port} (certificates for ${postgresAuthority.names.join(', ')})`);

    const local: LocalEndpoints = {
      jwtIssuer: aws.issuerUrl,
      // The proxy's address; the certificate is checked against the server name (SCYLLA_TLS_SERVER_NAME).
      scyllaContactPoints: cqlProxy.host,
      scyllaTlsPort: cqlProxy.port,
      scyllaTlsServerName: 'localhost',
      scyllaCaPem: scyllaAuthority.caPem,
      scyllaLocalDc: env.SCYLLA_LOCAL_DC!,
      scyllaKeyspace: keyspace,
      upstashUrl: env.UPSTASH_REDIS_REST_URL!,
      upstashToken: env.UPSTASH_REDIS_REST_TOKEN ?? LOCAL_UPSTASH_TOKEN,
      database: {
        host: 'localhost',
        port: postgresProxy.port,
        username: decodeURIComponent(dbUrl.username || 'postgres'),
        password: decodeURIComponent(dbUrl.password) || 'rehearsal-password',
        dbname: keyspace,
      },
      telegramHistoryUrl: aws.telegramHistoryUrl,
      telegramApiUrl: aws.telegramApiUrl,
      telegramWebhookSecret: `rehearsal-webhook-secret-${keyspace}`,
    };
    const inputs = deployInputs(local);

    // 1. Synthesise.
    const synth = await synthesis;
    if (!reuse) log(`  synthesised ${synth.stackName} in ${seconds(synth.durationMs)}`);
    const template = readTemplate(synth.templateFile);
    const specs = lambdaFunctions(template, outDir, synth.assetsFile);
    const resolver = new Resolver({
      template,
      stackName: synth.stackName,
      region: REHEARSAL_REGION,
      account: REHEARSAL_ACCOUNT,
      parameters: inputs.parameters,
      local: { sqsEndpoint: aws.sqsUrl, database: { host: local.database.host, port: local.database.port } },
    });
    const parameters = Object.keys(template.Parameters ?? {}).filter((name) => name !== 'BootstrapVersion');
    if (parameters.length > 0) log(`  the template still has CloudFormation parameters: ${parameters.join(', ')} (answered from inputs.ts)`);
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type === 'AWS::Events::EventBus') busNames.add(String(resolver.resolve({ Ref: logicalId })));
    }

    // 2. Every function: its handler, bundle and environment.
    const runtimeDir = join(work, 'runtime');
    const bootstrap = writeBootstrap(runtimeDir);
    const sdkModules = join(work, 'sdk', 'node_modules');
    const sdkPackages = sdkNodeModules(projectRoot, sdkModules);
    const nodeBinary = lambdaNode(projectRoot);
    const secretUsers = new Map<string, Set<string>>();
    const wiring: string[] = [];
    const webSocketApis = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Api' && r.Properties?.ProtocolType === 'WEBSOCKET');
    const httpApis = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Api' && r.Properties?.ProtocolType === 'HTTP');
    const webSocketApiIds = new Map(webSocketApis.map(([logicalId]) => [String(resolver.resolve({ Ref: logicalId })), logicalId]));
    const handlerOf = new Map<string, string>();
    const functions: RehearsedFunction[] = specs.map((spec) => {
      const handlerName = entryOf(spec);
      if (handlerName) handlerOf.set(spec.logicalId, handlerName);
      const functionName = String(resolver.resolve({ Ref: spec.logicalId }));
      const fn: RehearsedFunction = { spec, handlerName, functionName, environment: {}, process: undefined };
      const isFramework = (spec.environment.USER_ON_EVENT_FUNCTION_ARN !== undefined);
      if (isFramework) {
        fn.notRehearsed = `the CDK Provider framework (${spec.runtime}): it invokes the onEvent function through the Lambda API and answers CloudFormation's S3 URL; the onEvent function is rehearsed directly`;
        return fn;
      }
      if (!handlerName) fn.notRehearsed = 'its bundle names no functions/*.ts entry (not one of this project\'s handlers)';
      else if (NOT_REHEARSABLE[handlerName]) fn.notRehearsed = NOT_REHEARSABLE[handlerName];
      if (!spec.bundleDir) {
        fn.blocked = 'its code is not a file asset of the assembly (no bundle directory in cdk.out)';
        return fn;
      }
      if (spec.runtime !== 'nodejs22.x') wiring.push(`${handlerName ?? spec.logicalId}: runtime ${spec.runtime}, not nodejs22.x`);
      const environment: Record<string, string> = {};
      for (const [key, value] of Object.entries(spec.environment)) {
        let resolved: unknown;
        try {
          resolved = resolver.resolve(value);
        } catch (error) {
          if (!(error instanceof UnresolvableError)) throw error;
          fn.blocked = `${key} does not resolve: ${error.message}`;
          return fn;
        }
        if (resolved === undefined) continue;
        if (typeof resolved === 'object') {
          fn.blocked = `${key} resolves to ${JSON.stringify(resolved)}, not a string`;
          return fn;
        }
        environment[key] = typeof resolved === 'string' ? resolved : JSON.stringify(resolved);
      }
      for (const key of Object.keys(environment)) if (RESERVED_VARIABLES.has(key)) wiring.push(`${handlerName}: sets ${key}, a variable Lambda reserves (CreateFunction would fail)`);
      const size = Object.entries(environment).reduce((sum, [key, value]) => sum + key.length + value.length, 0);
      if (size > 4096) wiring.push(`${handlerName}: its environment is ${size} bytes, over Lambda's 4 KB`);
      // Endpoints CloudFormation fills in that the SDK would call directly: to the local stand-ins.
      for (const [key, deployed] of Object.entries(environment)) {
        const value = inputs.localEquivalents[deployed] ?? deployed;
        environment[key] = value;
        const api = parseExecuteApiUrl(value);
        if (api && webSocketApiIds.has(api.apiId)) {
          const stages = Object.values(template.Resources).filter(
            (r) => r.Type === 'AWS::ApiGatewayV2::Stage' && JSON.stringify(r.Properties?.ApiId) === JSON.stringify({ Ref: webSocketApiIds.get(api.apiId) }),
          );
          if (!stages.some((stage) => stage.Properties?.StageName === api.stage)) wiring.push(`${handlerName}: ${key} names stage ${api.stage}, which the WebSocket API does not have`);
          if (api.region !== REHEARSAL_REGION) wiring.push(`${handlerName}: ${key} names region ${api.region}, not the deploy region ${REHEARSAL_REGION}`);
          environment[key] = `${aws!.managementApiUrl}/${api.stage}`;
        }
        if (/^[A-Za-z0-9+/=._-]*$/.test(value) && /^arn:aws[a-z-]*:secretsmanager:/.test(value)) resolver.noteLiteralSecret(value);
        if (/^arn:aws[a-z-]*:secretsmanager:/.test(value) || key.endsWith('_SECRET_ARN')) {
          const users = secretUsers.get(value) ?? new Set<string>();
          users.add(key);
          secretUsers.set(value, users);
        }
      }
      const taskRoot = join(work, 'task', spec.logicalId);
      // Lambda's task root is /var/task: a path under it is a path in this function's copy of the bundle.
      for (const [key, value] of Object.entries(environment)) {
        if (value === '/var/task' || value.startsWith('/var/task/')) environment[key] = taskRoot + value.slice('/var/task'.length);
      }
      fn.environment = environment;
      // The one variable beyond the template's: the PostgreSQL proxy's throw-away CA, trusted the way a Lambda
      // trusts extra CAs (the runtime honours NODE_EXTRA_CA_CERTS). Deployed, the default CA is the RDS bundle
      // shipped in the code, which cannot vouch for a local CA; hence databaseCa=system in inputs.ts.
      // The Scylla CA is not added here: it reaches the driver only through SCYLLA_TLS_CA_SECRET_ARN.
      const extraCa: Record<string, string> = {};
      if (environment.NODE_EXTRA_CA_CERTS !== undefined) wiring.push(`${handlerName ?? spec.logicalId}: the template sets NODE_EXTRA_CA_CERTS (${environment.NODE_EXTRA_CA_CERTS}); the rehearsal cannot add its CA`);
      else extraCa.NODE_EXTRA_CA_CERTS = postgresAuthority.caFile;
      fn.process = new FunctionProcess({
        name: handlerName ?? spec.logicalId,
        bundleDir: spec.bundleDir,
        taskRoot,
        sdkModules,
        handler: spec.handler,
        memoryMb: spec.memoryMb,
        timeoutSeconds: spec.timeoutSeconds,
        nodeBinary,
        bootstrapFile: bootstrap,
        invokedFunctionArn: `arn:aws:lambda:${REHEARSAL_REGION}:${REHEARSAL_ACCOUNT}:function:${functionName}`,
        environment: {
          ...environment,
          ...extraCa,
          ...lambdaEnvironment({
            functionName,
            memoryMb: spec.memoryMb,
            handler: spec.handler,
            taskRoot,
            runtimeDir,
            region: REHEARSAL_REGION,
            tracing: (template.Resources[spec.logicalId]!.Properties?.TracingConfig as { Mode?: string } | undefined)?.Mode === 'Active',
            endpoints: {
              AWS_ENDPOINT_URL_SECRETS_MANAGER: aws!.secretsManagerUrl,
              AWS_ENDPOINT_URL_EVENTBRIDGE: aws!.eventBridgeUrl,
              AWS_ENDPOINT_URL_SQS: aws!.sqsUrl,
            },
          }),
        },
      });
      return fn;
    });

    // 3. The secrets: what each serves is decided by the variable naming it; where each comes from is checked.
    for (const [arn, users] of secretUsers) {
      const origin = resolver.secrets.get(arn);
      const names = [...users];
      const values = new Set(names.map((name) => inputs.secretValues[name]));
      if (names.some((name) => inputs.secretValues[name] === undefined)) {
        wiring.push(`${names.join(', ')}: no value for this secret in secretValues (test/deploy/inputs.ts)`);
        continue;
      }
      if (values.size > 1) wiring.push(`one secret (${arn}) is named by ${names.join(' and ')}, which need different values`);
      aws.setSecret(arn, [...values][0]!);
      if (origin?.kind === 'generated' && !origin.attachedToDatabase && !names.every((name) => RANDOM_SECRET_ALLOWED.has(name))) {
        wiring.push(
          `${names.join(', ')} names ${origin.logicalId}, a secret the stack generates at random (GenerateSecretString) and nothing fills in: ` +
            'on a real first deploy the function would read a random string, not a working value. (The rehearsal serves the right value and goes on.)',
        );
      }
    }
    const unassigned = functions.filter((fn) => !fn.handlerName);
    if (unassigned.length > 0) log(`  ${unassigned.length} function(s) with no functions/*.ts entry: ${unassigned.map((fn) => fn.spec.logicalId).join(', ')}`);
    log(`  ${functions.length} functions in the template; the SDK node_modules: ${sdkPackages.length} packages; runtime ${nodeBinary}`);

    // Where each function's connections go, sampled after each of its invocations (warm pools stay open).
    const seen = new Map<string, Map<string, Set<string>>>();
    const audit = (fn: RehearsedFunction) => {
      const pid = fn.process?.pid;
      if (pid === undefined) return;
      const name = fn.handlerName ?? fn.spec.logicalId;
      const byRemote = seen.get(name) ?? new Map<string, Set<string>>();
      seen.set(name, byRemote);
      for (const connection of connectionsOf([pid]).get(pid) ?? []) {
        const locals = byRemote.get(connection.remote) ?? new Set<string>();
        locals.add(connection.local);
        byRemote.set(connection.remote, locals);
      }
    };
    const windows: { name: string; start: number; end: number }[] = [];
    harness = new Harness(functions, {
      before: (fn) => windows.push({ name: fn.handlerName ?? fn.spec.logicalId, start: Date.now(), end: Number.POSITIVE_INFINITY }),
      after: (fn) => {
        windows.at(-1)!.end = Date.now();
        audit(fn);
      },
    });
    /** TLS sessions a proxy established, by the function whose invocation was running then (one at a time). */
    const sessionsBy = (proxy: Proxy) => {
      const counts = new Map<string, number>();
      for (const at of proxy.stats.established) {
        const name = windows.find((window) => at >= window.start && at <= window.end)?.name ?? 'between invocations';
        counts.set(name, (counts.get(name) ?? 0) + 1);
      }
      return [...counts].map(([name, count]) => `${name} ×${count}`).join(', ') || 'none';
    };
    for (const problem of wiring) harness.fail(`wiring: ${problem}`);
    for (const fn of functions) if (fn.blocked && !fn.notRehearsed) harness.fail(`${fn.handlerName ?? fn.spec.logicalId}: cannot run: ${fn.blocked}`);

    const scheduleRule = Object.entries(template.Resources).find(
      ([, r]) => r.Type === 'AWS::Events::Rule' && r.Properties?.ScheduleExpression !== undefined,
    );
    const reconcileRuleArn = `arn:aws:events:${REHEARSAL_REGION}:${REHEARSAL_ACCOUNT}:rule/${synth.stackName}-${scheduleRule?.[0] ?? 'ReconcileSchedule'}`;
    const customs = customResources(template, handlerOf, resolver);
    const authorizerEnv = functions.find((fn) => fn.handlerName === 'ws-authorizer')?.environment ?? {};
    const serviceAudience = Object.values(functions).map((fn) => fn.environment.JWT_SERVICE_AUDIENCE).find(Boolean);

    // 4. Invoke.
    log('deploy rehearsal: invoking…');
    const invokeStarted = Date.now();
    await runScenario({
      harness,
      aws,
      stackName: synth.stackName,
      httpApiId: httpApis[0] ? String(resolver.resolve({ Ref: httpApis[0][0] })) : 'httpapi',
      httpApiBaseUrls: httpApis.flatMap(([logicalId]) =>
        Object.values(template.Resources)
          .filter((r) => r.Type === 'AWS::ApiGatewayV2::Stage' && JSON.stringify(r.Properties?.ApiId) === JSON.stringify({ Ref: logicalId }))
          .map((stage) => {
            const name = String(stage.Properties?.StageName);
            return `https://${String(resolver.resolve({ Ref: logicalId }))}.execute-api.${REHEARSAL_REGION}.amazonaws.com${name === '$default' ? '' : `/${name}`}`;
          }),
      ),
      webSocketApiId: webSocketApis[0] ? String(resolver.resolve({ Ref: webSocketApis[0][0] })) : 'wsapi',
      customResources: new Map([...customs].filter(([handler]) => !NOT_REHEARSABLE[handler])),
      reconcileRuleArn,
      environmentOf: (handler) => functions.find((fn) => fn.handlerName === handler)?.environment ?? {},
      issuer: authorizerEnv.JWT_ISSUER ?? local.jwtIssuer,
      audience: authorizerEnv.JWT_AUDIENCE ?? JWT_AUDIENCE,
      serviceAudience: serviceAudience ?? JWT_SERVICE_AUDIENCE,
      webhookSecret: local.telegramWebhookSecret,
    });
    const invokeMs = Date.now() - invokeStarted;

    // Every HTTP route of the route table must be served by a function of the template.
    for (const handler of HTTP_HANDLERS) {
      if (!functions.some((fn) => fn.handlerName === handler)) harness.fail(`route ${handler}: no function of the template is built from functions/${handler}.ts`);
    }
    for (const refusal of aws.refused) harness.fail(`local AWS: ${refusal}`);

    // TLS: every store connection of every function went through a proxy, over TLS, and none around it.
    const endpoint = (host: string, port: number) => `${host === 'localhost' ? '127.0.0.1' : host}:${port}`;
    const targets = {
      postgresProxy: endpoint(postgresProxy.host, postgresProxy.port),
      cqlProxy: endpoint(cqlProxy.host, cqlProxy.port),
      postgresDirect: endpoint(postgresStore.host, postgresStore.port),
      cqlDirect: endpoint(cqlStore.host, cqlStore.port),
    };
    const usersOf = (remote: string) => [...seen].filter(([, byRemote]) => byRemote.has(remote)).map(([name]) => name);
    for (const [name, byRemote] of seen) {
      for (const [remote, locals] of byRemote) {
        const port = Number(remote.split(':').pop());
        if (remote === targets.cqlDirect || (port === cqlStore.port && remote !== targets.cqlProxy)) {
          harness.fail(`TLS: ${name} connected to the CQL node directly, in plain text, around the TLS proxy: ${[...locals].map((l) => `${l} → ${remote}`).join(', ')}`);
        }
        if (remote === targets.postgresDirect || (port === postgresStore.port && remote !== targets.postgresProxy)) {
          harness.fail(`TLS: ${name} connected to PostgreSQL directly, in plain text, around the TLS proxy: ${[...locals].map((l) => `${l} → ${remote}`).join(', ')}`);
        }
      }
    }
    for (const [label, proxy] of [['PostgreSQL', postgresProxy], ['CQL', cqlProxy]] as const) {
      if (proxy.stats.tls === 0) harness.fail(`TLS: no function connected to ${label} through its TLS proxy (${describeProxy(label, proxy)})`);
      for (const refusal of proxy.stats.refused) harness.fail(`TLS: ${label} proxy: ${refusal}`);
      for (const error of proxy.stats.upstreamErrors) harness.fail(`TLS: ${label} proxy could not reach the store: ${error}`);
    }

    // 5. Report.
    log('');
    log(harness.table());
    const calls = new Map<string, number>();
    for (const call of aws.calls) calls.set(`${call.service}.${call.operation}`, (calls.get(`${call.service}.${call.operation}`) ?? 0) + 1);
    log('');
    log(`AWS calls served locally: ${[...calls].map(([name, count]) => `${name} ×${count}`).join(', ') || 'none'}`);
    log(`${describeProxy('PostgreSQL', postgresProxy)}; sessions opened during: ${sessionsBy(postgresProxy)}`);
    log(`${describeProxy('CQL', cqlProxy)}; sessions opened during: ${sessionsBy(cqlProxy)}`);
    log(`functions seen holding connections through the PostgreSQL proxy: ${usersOf(targets.postgresProxy).length}, through the CQL proxy: ${usersOf(targets.cqlProxy).length}`);
    const direct = [...new Set([...usersOf(targets.postgresDirect), ...usersOf(targets.cqlDirect)])];
    log(`function connections straight to the stores' plain ports (${targets.postgresDirect}, ${targets.cqlDirect}): ${direct.join(', ') || 'none'}`);
    const invoked = harness.steps.length;
    const failedSteps = harness.steps.filter((step) => !step.ok).length;
    const cold = harness.steps.filter((step) => step.coldStart);
    const initMedian = cold.map((step) => step.initMs ?? 0).sort((a, b) => a - b)[Math.floor(cold.length / 2)] ?? 0;
    log(
      `${invoked} invocations (${failedSteps} failed) of ${new Set(harness.steps.map((step) => step.function)).size} functions; ` +
        `${cold.length} cold starts (median init ${Math.round(initMedian)} ms); invoking took ${seconds(invokeMs)}; total ${seconds(Date.now() - started)}`,
    );
    for (const note of harness.notes) log(`note: ${note}`);
    if (harness.failures.length > 0) {
      log('');
      log(`DEPLOY REHEARSAL FAILED: ${harness.failures.length} problem(s)`);
      harness.failures.forEach((failure, index) => log(`\n${index + 1}. ${indent(failure).trimStart()}`));
      return 1;
    }
    log('deploy rehearsal passed');
    return 0;
  } catch (error) {
    console.error(`deploy rehearsal: ${(error as Error).stack ?? String(error)}`);
    return 1;
  } finally {
    await harness?.stopAll();
    await aws?.close().catch(() => undefined);
    await Promise.all(proxies.map((proxy) => proxy.close().catch(() => undefined)));
    if (database) await dropDatabase(database.adminUrl, database.name).catch((error: unknown) => console.error(`could not drop database ${database!.name}: ${(error as Error).message}`));
    if (keyspace && stores) await dropKeyspace(stores.env, keyspace).catch((error: unknown) => console.error(`could not drop keyspace ${keyspace}: ${(error as Error).message}`));
    await stores?.stop({ keepCql: process.env.KEEP_STORES === '1' }).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

process.exitCode = await main();
