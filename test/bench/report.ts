/** Turns the results into a readable report with a latency chart, and checks them against the targets. */
import type { Summary } from './stats.js';
import { round } from './stats.js';

type Results = Record<string, any>;

const ms = (value: number) => `${round(value)} ms`;

function table(header: string[], rows: (string | number)[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

function verdict(ok: boolean): string {
  return ok ? 'met' : '**missed**';
}

/** Every figure of results.json's list with its target, ratio, interval and verdict. */
function figureRows(r: Results): (string | number)[][] {
  return ((r.figures ?? []) as any[]).map((f) => [
    f.name,
    `${f.value} ${f.unit}`,
    f.ratio === undefined ? '' : `×${f.ratio}${f.ci95 ? ` [${f.ci95[0]}, ${f.ci95[1]}]` : ''}`,
    f.target ?? '',
    f.met === undefined ? '' : f.met ? (f.metWithConfidence === false ? 'met (interval crosses the limit)' : 'met') : `**missed** (${f.missedBy})`,
  ]);
}

function svgChart(r: Results): string {
  const ops = Object.entries((r.warm ?? {}) as Record<string, { floor: Summary; handler: Summary }>);
  const max = Math.max(1, ...ops.map(([, w]) => Math.max(w.floor.p99, w.handler.p99)));
  const rowHeight = 44;
  const width = 760;
  const left = 150;
  const scale = (value: number) => (value / max) * (width - left - 90);
  const bars = ops
    .map(([op, w], index) => {
      const y = 40 + index * rowHeight;
      const bar = (summary: Summary, offset: number, color: string) =>
        `<rect x="${left}" y="${y + offset}" width="${scale(summary.p50)}" height="14" fill="${color}"/>` +
        `<line x1="${left + scale(summary.p50)}" x2="${left + scale(summary.p99)}" y1="${y + offset + 7}" y2="${y + offset + 7}" stroke="${color}" stroke-width="2"/>` +
        `<text x="${left + scale(summary.p99) + 4}" y="${y + offset + 11}" font-size="10">${round(summary.p50)} / ${round(summary.p99)} ms</text>`;
      return `<text x="8" y="${y + 20}" font-size="12">${op}</text>${bar(w.floor, 0, '#8a8a8a')}${bar(w.handler, 18, '#1f5fbf')}`;
    })
    .join('');
  const height = 60 + ops.length * rowHeight;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<text x="8" y="18" font-size="14" font-weight="bold">Warm latency: floor on the app's client (grey) vs handler (blue); bar = p50, line to p99</text>
${bars}
</svg>`;
}

const range = (values: number[], digits = 2) => (values.length ? `${round(Math.min(...values), digits)}–${round(Math.max(...values), digits)}` : 'n/a');

/** The changes feed: a read of 100 changes against its floor, and what the change record adds to a create. */
function changesSections(r: Results): string[] {
  const { feedRead: f, createCost: c, loadAverage } = r.changes;
  const arm = (name: string, a: { summary: Summary; perRun: { p50: number; p99: number }[]; errors: number }) => [
    name,
    ms(a.summary.p50),
    ms(a.summary.p95),
    ms(a.summary.p99),
    `${range(a.perRun.map((x) => x.p50))} / ${range(a.perRun.map((x) => x.p99))} ms`,
    a.errors,
  ];
  const header = ['measure', 'p50', 'p95', 'p99', 'per-run p50 / p99 range', 'errors'];
  const warmCreate = r.warm?.createMessage?.handler as Summary | undefined;
  const lines = [
    `## Changes feed: a read of ${f.changes} changes (limit=${f.limit}) against its floor`,
    '',
    `Interleaved on the app's client, one sample of each row per round (the rounds cycling through every order); floor = the two partition reads of the day (everyone + the caller's own) at LOCAL_QUORUM, side by side, returning the same ${f.changes} rows. Before timing: handler ${f.check.handlerChanges} changes (${f.check.handlerTypes.join(', ')}), has_more ${f.check.hasMore}, floor ${f.check.floorRows} rows, same ids: ${f.check.sameIds ? 'yes' : '**no**'}, ${f.check.days} day partition(s); ${f.scyllaStatementsPerRead.min}–${f.scyllaStatementsPerRead.max} Scylla statements per handler read (plus the PostgreSQL member check). Settle ${f.settleMs} ms waited before reading.`,
    '',
    table(header, [
      arm('floor: 2 partition reads', f.floor),
      ...(f.floorWithMemberCheck ? [arm('context: member check (PostgreSQL) + the 2 reads', f.floorWithMemberCheck)] : []),
      arm('list-changes handler', f.handler),
    ]),
    '',
    `Handler / floor: p50 ×${f.ratioP50}, p99 ×${f.ratioP99} (p50 ratio per run: ${f.ratioP50PerRun.join(', ')}). Noise: floor against itself (two halves of alternate blocks of rounds) p50 ×${f.floorVsFloor.ratioP50}, p99 ×${f.floorVsFloor.ratioP99}.${f.firstErrors.length ? ` First errors: ${f.firstErrors.join('; ')}` : ''}`,
    '',
    '## Create: what the change record adds',
    '',
    `Interleaved on the app's client: (a) the message row's INSERT alone (STATEMENTS.insert) and (b) the logged batch of that INSERT and its \`message.created\` change row (changeStatement; body ${c.changeBodyBytes} bytes of JSON), the write a create sends once its bucket is indexed; and (c) the create-message handler end to end on the same channel. One sample of each per round, the rounds cycling through every order of the three.`,
    '',
    table(header, [
      arm('(a) INSERT message row', c.insert),
      arm('(b) logged batch: row + change', c.batchWithChange),
      arm('(c) create-message handler', c.handler),
      ...(warmCreate ? [['create-message handler, warm section (its own block)', ms(warmCreate.p50), ms(warmCreate.p95), ms(warmCreate.p99), '', '']] : []),
    ]),
    '',
    `The change record adds p50 ${ms(c.addedP50)}, p99 ${ms(c.addedP99)} (×${c.ratioP50} / ×${c.ratioP99}; p50 added per run: ${c.addedP50PerRun.map((x: number) => ms(x)).join(', ')}). Noise: INSERT against itself (two halves of alternate blocks of rounds) p50 ×${c.insertVsInsert.ratioP50}, p99 ×${c.insertVsInsert.ratioP99}.${c.firstErrors.length ? ` First errors: ${c.firstErrors.join('; ')}` : ''}`,
    '',
    `Load average (1/5/15 min) before ${loadAverage.before.join(' / ')}, after ${loadAverage.after.join(' / ')}.`,
  ];
  return lines;
}

/** Real-time push: ack → frame latency over the local server's WebSockets, and what publishing adds to a create. */
function pushSections(r: Results): string[] {
  const { setup: s, latency: l, createCost: c, clientsClosed, loadAverage } = r.push;
  const arm = (name: string, a: { summary: Summary; perRun: { p50: number; p99: number }[]; errors: number }) => [
    name,
    ms(a.summary.p50),
    ms(a.summary.p95),
    ms(a.summary.p99),
    `${range(a.perRun.map((x) => x.p50))} / ${range(a.perRun.map((x) => x.p99))} ms`,
    a.errors,
  ];
  const header = ['measure', 'p50', 'p95', 'p99', 'per-run p50 / p99 range', 'errors'];
  const d = (x: { p50: number; p99: number; p50PerRun: number[] }) => `p50 ${x.p50 >= 0 ? '+' : ''}${ms(x.p50)}, p99 ${x.p99 >= 0 ? '+' : ''}${ms(x.p99)} (p50 per run: ${x.p50PerRun.map((v) => round(v)).join(', ')})`;
  return [
    `## Real-time push: REST ack → frame, ${s.connections} local connections over ${s.channels} channels`,
    '',
    `The local server in the bench process; ${s.channels} channels × ${s.members / s.channels} members × ${s.connectionsPerMember} connections = ${s.perChannel} subscribed connections per channel (${s.subscribed} subscribed in ${round(s.openMs / 1000, 1)} s); ${s.clients}. One message at a time over HTTP, rotating the channels; the next only once all ${s.perChannel} frames of the last are in or ${l.timeoutMs} ms have passed. Latency = a frame's arrival at its client − the REST response's arrival at the caller (negative: the frame came first; the fan-out starts when the change is written, before the create's PostgreSQL work and the response). Fan-out ${s.fanOutConcurrency} posts at once.`,
    '',
    table(header, [arm(`every frame (${l.frames} frames of ${l.messages} messages)`, l.perFrame), arm(`last of the ${s.perChannel} connections, per message`, l.lastOfChannel)]),
    '',
    `Target p99 ≤ ${l.targetP99Ms} ms: ${verdict(l.perFrame.summary.p99 <= l.targetP99Ms && l.lastOfChannel.summary.p99 <= l.targetP99Ms && l.missingFrames === 0)}. Frames before the ack: ${l.framesBeforeAck}. Missing (not received within ${l.timeoutMs} ms, counted as errors): ${l.missingFrames} frames, ${l.incompleteMessages} messages; duplicates ${l.duplicates}. Other frames received: ${JSON.stringify(clientsClosed.otherFrames)}; frames of messages never collected: ${clientsClosed.uncollected} message(s). Connections still in the channels' registry sets 1 s after the clients closed (50 every 200 ms): ${clientsClosed.registryAfterClose ?? 'n/a'}.`,
    '',
    '## Create: what publishing adds',
    '',
    `All creates over HTTP to the same server, ${s.connections} connections open throughout. Block 1 (the server's sink), interleaved: (A) a create in a channel with ${s.perChannel} listeners (frames awaited before the next call, outside its time) and (B) one in an 11th channel nobody listens to. Block 2 (the server's sink cannot be restored once replaced, so it comes second), interleaved with the sink set before each call: (C) a listened channel with no sink, (D) the 11th channel with no sink, (E) the 11th channel with the server's fan-out code on the same registry (it finds no connection), (F) the 11th channel with a sink that does nothing. Locally the sink returns at once and fans out beside the request: the create pays only for the CPU it takes from it on this machine.`,
    '',
    table(header, [
      arm(`(A) block 1: ${s.perChannel} listeners, published`, c.block1.listened),
      arm('(B) block 1: no listeners, published', c.block1.unlistened),
      ...(c.block0 ? [arm('(Bq0) block 0, before block 1: no listeners, published, B alone (no frames anywhere)', c.block0.unlistened)] : []),
      ...(c.block1b ? [arm('(Bq) block 1b: no listeners, published, B alone (no frames anywhere)', c.block1b.unlistened)] : []),
      arm('(C) block 2: listened channel, nothing published', c.block2.listened),
      arm('(D) block 2: no listeners, nothing published', c.block2.unlistened),
      arm('(E) block 2: no listeners, published (fan-out finds nobody)', c.block2.published),
      ...(c.block2.noOpSink ? [arm('(F) block 2: no listeners, a sink that does nothing', c.block2.noOpSink)] : []),
    ]),
    '',
    `- delivering ${s.perChannel} frames beside a create, A − B (interleaved): ${d(c.fanOutBeside)}`,
    `- publishing itself, E − D (interleaved, on against off): ${d(c.publishNoListeners)}${c.handOver ? `; of which handing the change over to a sink that does nothing, F − D: ${d(c.handOver)}` : ''}`,
    `- **publishing adds, (A − B) + (E − D): ${d(c.publishingAdds)}**; target p50 +≤ ${c.targetAddedP50Ms} ms: ${verdict(c.publishingAdds.p50 <= c.targetAddedP50Ms)}`,
    `- A/A: C − D (both off; listened vs unlistened channel): ${d(c.offListenedVsUnlistened)}; B against itself (two halves) p50 ×${c.block1.unlistenedHalves.ratioP50} (${ms(c.block1.unlistenedHalves.diffP50)}), p99 ×${c.block1.unlistenedHalves.ratioP99}; D against itself p50 ×${c.block2.unlistenedHalves.ratioP50} (${ms(c.block2.unlistenedHalves.diffP50)}), p99 ×${c.block2.unlistenedHalves.ratioP99}`,
    `- across the blocks (block drift included): A − C ${d(c.acrossBlocks.listenedOnVsOff)}; B − D ${d(c.acrossBlocks.unlistenedOnVsOff)}; B − E (the same work in both blocks) ${d(c.acrossBlocks.publishedBlock1VsBlock2)}${c.acrossBlocks.afterDeliveries ? `; B − Bq0 (block 0, just before) ${c.acrossBlocks.beforeDeliveries ? d(c.acrossBlocks.beforeDeliveries) : 'n/a'}; B − Bq (block 1b, just after) ${d(c.acrossBlocks.afterDeliveries)} (B slower than both would mean A's deliveries slow the creates around them, which A − B cannot see; Bq0 and Bq are sequential creates in one channel, not interleaved, so this is a pointer, not a figure); Bq − E (adjacent blocks, the server's sink against the bench's) ${d(c.acrossBlocks.quietVsBlock2)}` : ''}`,
    `- frames of block 2's listened-channel messages received: ${c.block2.framesWhileOff} (expected 0); posts the bench sink was asked for: ${c.block2.unexpectedPosts} (expected 0).${c.firstErrors.length ? ` First errors: ${c.firstErrors.join('; ')}` : ''}`,
    '',
    `Not measured here: the AWS sink, EventBridge PutEvents (no AWS on this machine). The code bounds it: the send starts when the change is written and runs beside the request's remaining work; the invocation awaits it only at its end (settlePublishes), for at most PUBLISH_TIMEOUT_MS = ${c.publishTimeoutMs} ms (lib/use-cases/publish.ts), so a create pays at most what the PutEvents round trip takes beyond its own remaining work, ${c.publishTimeoutMs} ms in the worst case.`,
    '',
    `Load average (1/5/15 min) before ${loadAverage.before.join(' / ')}, after ${loadAverage.after.join(' / ')}. Measured ${r.push.date}.`,
  ];
}

export function renderReport(r: Results): { markdown: string; svg: string } {
  const load = r.machine?.loadAverage;
  const parts: string[] = [`# Benchmark report`, '', `Machine: ${r.machine?.cpus} cores (${r.machine?.cpuModel}), ${r.machine?.memoryGb} GB, Node ${r.machine?.node}, store: ${r.machine?.store}; load average (1/5/15 min) before ${load?.before?.join(' / ')}, after ${load?.after?.join(' / ')}. Warm comparisons: ${r.settings?.runs} runs × ${r.settings?.samples} interleaved rounds; ratios on all rounds with a 95 % bootstrap interval (2,000 resamples of rounds). Sections: ${Array.isArray(r.settings?.only) ? r.settings.only.join(', ') : 'all'}${r.settings?.quick ? ' (BENCH_QUICK: development figures only)' : ''}. Started ${r.startedAt}.`, '', '![latency](latency.svg)', ''];
  if (r.failed) parts.push('**The run failed** (the sections below are those that finished before it):', '', '```', String(r.failed).split('\n').slice(0, 6).join('\n'), '```', '');
  const rows = figureRows(r);
  if (rows.length > 0) parts.push('## Figures and targets', '', table(['figure', 'value', 'ratio [95 % CI]', 'target', 'verdict'], rows), '');
  if (r.warm) {
    parts.push('## Warm latency: handler against its floor, interleaved per round (in-process, API Gateway v2 events)', '');
    parts.push(table(['operation', 'floor p50', 'floor p99', 'handler p50', 'handler p99', 'p50 ratio [95 % CI]', 'p99 ratio [95 % CI]', 'errors handler / floor', 'floor in step'],
      Object.entries(r.warm as Record<string, any>).map(([op, w]) => [op, ms(w.pooled.floorP50), ms(w.pooled.floorP99), ms(w.pooled.handlerP50), ms(w.pooled.handlerP99), `×${w.ratioP50} [${w.ci95P50.join(', ')}]`, `×${w.ratioP99} [${w.ci95P99.join(', ')}]`, `${JSON.stringify(w.errors.handler)} / ${JSON.stringify(w.errors.floor)}`, w.statements ? (w.statements.inSync ? 'yes' : `**no**: ${w.statements.problems.join('; ')}`) : 'A/A'])), '', 'Floors: ' + Object.entries(r.warm as Record<string, any>).map(([op, w]) => `${op}: ${w.floorIs}`).join('; ') + '.', '');
  }
  if (r.myChannels) {
    const m = r.myChannels;
    const w = m.writeCost;
    parts.push('## My channels (GET /channels) and what its ordering costs a message write', '', table(['measure', 'p50', 'p99'], [
      [`first page of 50 (${m.channels} channels, ${m.withMessages} with ${m.seed?.messages} messages)`, ms(m.firstPage.p50), ms(m.firstPage.p99)],
      ['any page of 50 (random cursor)', ms(m.randomPage.p50), ms(m.randomPage.p99)],
      ['UPDATE on one row from 8 callers, every message', ms(w.update8OneRow.everyMessage.p50), ms(w.update8OneRow.everyMessage.p99)],
      ['UPDATE on one row from 8 callers, coalesced (≤ 1/s)', ms(w.update8OneRow.coalesced.p50), ms(w.update8OneRow.coalesced.p99)],
      ['rejected: read all 1,000 metadata rows and sort, per page', ms(m.alternatives.readAllMetadata.p50), ms(m.alternatives.readAllMetadata.p99)],
      ['rejected: fan-out write per member (100 members), per message', ms(m.alternatives.fanOut100Members.p50), ms(m.alternatives.fanOut100Members.p99)],
    ]), '', `Scylla statements per page: first page ${m.statementsPerPage.scylla}, any page ${m.statementsPerPage.scyllaMin}–${m.statementsPerPage.scyllaMax} (mean ${m.statementsPerPage.scyllaMean}), all single-partition; PostgreSQL: one keyset query. Seed: ${JSON.stringify(m.seed)}; first page: ${JSON.stringify(m.countsOnFirstPage)}.`, '');
  }
  if (r.changes) parts.push(...changesSections(r), '');
  if (r.push) parts.push(...pushSections(r), '');
  if (r.antiPattern) parts.push('## Client per invocation (anti-pattern)', '', `Connect + query + shutdown per call, interleaved with the warm get handler: p50 ${ms(r.antiPattern.perInvocationGet.p50)}, p99 ${ms(r.antiPattern.perInvocationGet.p99)}; warm handler p50 ${ms(r.antiPattern.warmGet.p50)} (×${r.antiPattern.ratioP50} [${r.antiPattern.ci95P50?.join(', ')}]).`, '');
  if (r.concurrency8) {
    parts.push(`## Concurrency 8: 8 processes, handler and floor alternating`, '', table(['operation', 'floor p50', 'floor p99', 'handler p50', 'handler p99', 'p99 ratio [95 % CI]', 'handler calls/s', 'errors handler / floor'], Object.entries(r.concurrency8.perOp as Record<string, any>).map(([op, c]) => [op, ms(c.pooled.floorP50), ms(c.pooled.floorP99), ms(c.pooled.handlerP50), ms(c.pooled.handlerP99), `×${c.ratioP99} [${c.ci95P99.join(', ')}]`, c.handlerPerSecond, `${JSON.stringify(c.errors.handler)} / ${JSON.stringify(c.errors.floor)}`])), '');
    if (r.concurrency8.startErrors?.length) parts.push(`Worker failures: ${r.concurrency8.startErrors.join('; ')}`, '');
  }
  if (r.throughputHandlers) parts.push(`## Throughput: creates through the handlers (${r.settings?.quick ? '1.5' : '4'} s per level)`, '', table(['concurrency', 'messages/s', 'p99', 'errors'], Object.entries(r.throughputHandlers as Record<string, any>).map(([c, t]) => [c, t.perSecond, ms(t.p99), t.errors])), '');
  if (r.throughputHttp) parts.push('## Throughput: creates through the local HTTP server (autocannon, 4 s per level)', '', table(['connections', 'requests/s', 'p50', 'p99', 'non-2xx'], Object.entries(r.throughputHttp as Record<string, any>).map(([c, t]) => [c, t.perSecond, ms(t.p50), ms(t.p99), t.non2xx])), '');
  if (r.scale) parts.push('## Scale: a page of 50 at 40 points of each channel, shapes interleaved per round', '', table(['channel', 'messages', 'buckets', 'page p50', 'page p99', 'p50 against dense 100 k [95 % CI]', 'statements per page (min–max)', 'errors'], Object.entries(r.scale as Record<string, any>).map(([name, s]) => [name, s.messages, s.buckets, ms(s.page.p50), ms(s.page.p99), `×${s.vsDense100k.p50.ratio} [${s.vsDense100k.p50.ci95.join(', ')}]`, `${s.queriesPerPage.min}–${s.queriesPerPage.max}`, JSON.stringify(s.errors)])), '');
  if (r.coldStart) {
    parts.push(`## Bundles and module load, from ${r.coldStart.outDir} (median of ${r.coldStart.loadsPerFunction} fresh processes)`, '', table(['function', 'uses Scylla', 'all JavaScript', 'entry (index.mjs)', 'files', 'import', 'failed loads'], Object.entries(r.coldStart.perFunction as Record<string, any>).sort(([, a], [, b]) => b.bundleKb - a.bundleKb).map(([name, f]) => [name, f.usesScylla ? 'yes' : 'no', `${f.bundleKb} KB`, `${f.entryKb} KB`, f.jsFiles, ms(f.loadMs), f.loadErrors ? `${f.loadErrors}: ${String(f.loadError).slice(0, 100)}` : 0])), '');
    parts.push('## Cold start per function kind: process start → import → first answer', '', table(['kind', 'function', 'spawn → answer', 'node boot', 'import', 'first call (connects)', 'errors'], Object.entries(r.coldStart.coldStarts as Record<string, any>).map(([kind, c]) => [kind, c.function, ms(c.wallMs), ms(c.bootMs), ms(c.importMs), ms(c.firstCallMs), `${c.errors}${c.firstError ? ` (${String(c.firstError).slice(0, 120)})` : ''}`])), '');
  }
  if (r.memory) parts.push('## Memory: one function process (bundle from the assembly), 8 concurrent callers for 15 s', '', table(['function', 'peak RSS', 'heap used at end', 'requests', 'errors'], Object.entries(r.memory as Record<string, any>).map(([name, m]) => [name, `${m.peakRssMb} MB`, `${m.heapUsedMb} MB`, m.requests, m.errors])), '');
  return { markdown: parts.join('\n'), svg: svgChart(r) };
}
