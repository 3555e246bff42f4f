// End to end: publish every public package with the project's own `pnpm release` into a private
// Verdaccio, install them with plain npm into a folder outside the workspace, and run an ESM and a
// CommonJS consumer app that use nothing but what came from the registry.
import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { startOtlpReceiver, waitFor, type OtlpReceiver, type ReceivedSpan } from '@o11y/test-utils'
import { cleanEnv, publicPackages, runCommand, runNpm, startApp, startVerdaccio, strayFiles, type App, type Registry } from '../src/index'

const ROOT = resolve(__dirname, '../../..')
const FIXTURES = join(__dirname, 'fixtures/consumer')
// What the READMEs tell a user to install: the packages, their peers fastify and @opentelemetry/api, and pg.
const CONSUMER_DEPS = ['@o11y/metrics', '@o11y/tracing', '@o11y/logging', '@o11y/ci-gate', 'fastify@5', '@opentelemetry/api@1.10', 'pg']
const ROUTE = '/api/orders/:id'
const REQUESTS = 3
const HEX32 = /^[0-9a-f]{32}$/
const HEX16 = /^[0-9a-f]{16}$/
const SPAN_KIND_SERVER = 2

const baseEnv = cleanEnv(process.env)
const packages = publicPackages(ROOT, baseEnv)

function npmConfig (key: string, cwd: string): string | undefined {
  const value = execFileSync('npm', ['config', 'get', key], { cwd, env: baseEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  return value === '' || value === 'null' || value === 'undefined' ? undefined : value
}

/** The registry this machine's npm talks to; Verdaccio proxies everything but @o11y to it. */
function upstreamRegistry (cwd: string): string {
  const value = npmConfig('registry', cwd)
  return value !== undefined && /^https?:\/\//.test(value) ? value : 'https://registry.npmjs.org/'
}

/** The CA bundle npm trusts for that registry, so Verdaccio's uplink trusts the same. */
function upstreamCa (cwd: string): string | undefined {
  const file = process.env.NODE_EXTRA_CA_CERTS ?? npmConfig('cafile', cwd)
  return file !== undefined && existsSync(file) ? file : undefined
}

interface Running { registry?: Registry, apps: App[], receivers: OtlpReceiver[] }

interface Packument { versions: Record<string, { dist: { tarball: string, integrity: string }, [k: string]: any }> }

async function packument (registry: Registry, name: string): Promise<Packument | undefined> {
  const res = await fetch(new URL(name.replace('/', '%2f'), registry.url))
  return res.ok ? await res.json() as Packument : undefined
}

t.test('npm pack of every public package holds dist, README, LICENSE and package.json only', async (t) => {
  t.ok(packages.length >= 4, `public packages found: ${packages.map((p) => p.name).join(', ')}`)
  // npm pack walks each package's node_modules (slow under pnpm): all packages at once.
  const packs = await Promise.all(packages.map((pkg) => runCommand('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: pkg.path, env: baseEnv, timeoutMs: 120_000 })))
  for (const [i, pkg] of packages.entries()) {
    if (!t.equal(packs[i]!.code, 0, `${pkg.name}: npm pack --dry-run exits 0`)) continue
    const files = (JSON.parse(packs[i]!.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path).sort()
    t.same(strayFiles(files, pkg.manifest), [], `${pkg.name}: nothing but dist, README.md, LICENSE, package.json and bin`)
    for (const need of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']) {
      t.ok(files.includes(need), `${pkg.name}: tarball has ${need}`)
    }
  }
})

t.test('pnpm release --check-only: publint, attw, tarball contents and ranges are clean', async (t) => {
  const check = await runCommand('pnpm', ['release', '--skip-build', '--check-only'], { cwd: ROOT, env: baseEnv, timeoutMs: 180_000 })
  if (!t.equal(check.code, 0, 'pnpm release --check-only exits 0')) t.comment(check.stdout + check.stderr)
  for (const pkg of packages) {
    t.match(check.stdout, `release: ${pkg.name}: publint clean`, `${pkg.name}: publint clean`)
    t.match(check.stdout, `release: ${pkg.name}: attw clean`, `${pkg.name}: attw clean`)
  }
})

t.test('publish to a private registry with pnpm release, consume with plain npm', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'o11y-release-e2e-'))
  const running: Running = { apps: [], receivers: [] }
  // Runs when the test ends, passed or failed: consumer apps, receivers, the registry, the files.
  t.teardown(async () => {
    for (const app of running.apps) await app.stop()
    for (const receiver of running.receivers) await receiver.close()
    await running.registry?.stop()
    rmSync(work, { recursive: true, force: true })
  })

  const registry = running.registry = await startVerdaccio({ dir: join(work, 'registry'), uplink: upstreamRegistry(work), caFile: upstreamCa(work) })
  const token = await registry.addUser('release-bot', 'e2e-' + Math.random().toString(36).slice(2))
  const host = new URL(registry.url).host

  // The release is pointed at the registry by configuration only: a user .npmrc, as CI writes it.
  // (Checks ran in the test above; here the same command publishes.)
  const releaseRc = join(work, 'release.npmrc')
  writeFileSync(releaseRc, `@o11y:registry=${registry.url}\n//${host}/:_authToken=${token}\n`)
  let started = Date.now()
  const release = await runCommand('pnpm', ['release', '--skip-build', '--skip-checks'], {
    cwd: ROOT,
    env: { ...baseEnv, npm_config_userconfig: releaseRc },
    timeoutMs: 180_000
  })
  if (!t.equal(release.code, 0, 'pnpm release exits 0')) {
    t.comment(release.stdout + release.stderr)
    return
  }
  t.comment(`pnpm release published in ${seconds(started)} s`)
  t.match(release.stdout, `release: publishing to ${registry.url}`, 'release names the configured registry')
  const publishedLine = /^release: published: (.*)$/m.exec(release.stdout)?.[1] ?? ''
  t.same(publishedLine.split(', ').sort(), packages.map((p) => `${p.name}@${p.version}`).sort(), 'release lists every public package as published')
  t.notOk(existsSync(join(ROOT, 'pnpm-publish-summary.json')), 'release leaves no summary file in the work tree')

  await t.test('the registry holds every public package with real ranges and clean tarballs', async (t) => {
    for (const pkg of packages) {
      const doc = await packument(registry, pkg.name)
      const published = doc?.versions[pkg.version]
      if (!t.ok(published, `${pkg.name}@${pkg.version} is on the registry`)) continue
      const ranges = JSON.stringify([published!.dependencies, published!.peerDependencies, published!.optionalDependencies, published!.devDependencies])
      t.notMatch(ranges, /workspace:|catalog:/, `${pkg.name}: no workspace: or catalog: ranges in the published manifest`)
      if (published!.peerDependencies?.fastify !== undefined) t.equal(published!.peerDependencies.fastify, '^5.0.0', `${pkg.name}: fastify peer range`)
      t.ok(published!.engines?.node, `${pkg.name}: engines.node declared`)
      const tgz = join(work, `${pkg.name.replace('/', '-')}.tgz`)
      writeFileSync(tgz, Buffer.from(await (await fetch(published!.dist.tarball)).arrayBuffer()))
      const entries = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).trim().split('\n').map((e) => e.replace(/^package\//, ''))
      t.same(strayFiles(entries, published!), [], `${pkg.name}: published tarball holds only dist, README.md, LICENSE, package.json and bin`)
      t.ok(entries.includes('dist/index.js'), `${pkg.name}: published tarball has dist/index.js`)
    }
  })

  // A consumer outside the workspace: its own folder, its own .npmrc, an empty npm cache.
  const consumer = join(work, 'consumer')
  mkdirSync(consumer)
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'o11y-consumer', version: '1.0.0', private: true }, null, 2))
  writeFileSync(join(consumer, '.npmrc'), `registry=${registry.url}\n`)
  const userRc = join(work, 'consumer-user.npmrc')
  writeFileSync(userRc, `cache=${join(work, 'npm-cache')}\naudit=false\nfund=false\nupdate-notifier=false\n`)
  const consumerEnv: NodeJS.ProcessEnv = { ...baseEnv, npm_config_userconfig: userRc }
  started = Date.now()
  const install = await runNpm(['install', ...CONSUMER_DEPS], { cwd: consumer, env: consumerEnv, timeoutMs: 180_000 })
  t.comment(`npm install took ${seconds(started)} s`)
  if (!t.equal(install.code, 0, `npm install ${CONSUMER_DEPS.join(' ')} exits 0`)) {
    t.comment(install.stdout + install.stderr + '\nverdaccio:\n' + registry.logs())
    return
  }

  await t.test('the install came from the private registry', async (t) => {
    const lock = JSON.parse(readFileSync(join(consumer, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string, integrity: string }> }
    for (const pkg of packages.filter((p) => CONSUMER_DEPS.includes(p.name))) {
      const installed = lock.packages[`node_modules/${pkg.name}`]
      const doc = await packument(registry, pkg.name)
      t.equal(installed?.version, pkg.version, `${pkg.name}: the workspace version was installed`)
      t.equal(installed?.integrity, doc?.versions[pkg.version]?.dist.integrity, `${pkg.name}: the tarball is the one just published`)
    }
    t.ok(existsSync(join(registry.storage, 'fastify')), 'fastify was proxied through the registry uplink')
  })

  for (const [file, flag] of [['app.mjs', '--import'], ['app.cjs', '--require']] as const) {
    await t.test(`${file} started with ${flag} @o11y/tracing/register`, (t) => exerciseConsumer(t, consumer, running, file, flag))
  }

  await t.test('o11y-gate runs from the installed package', async (t) => {
    const help = await runCommand('npx', ['o11y-gate', '--help'], { cwd: consumer, env: consumerEnv, timeoutMs: 60_000 })
    t.equal(help.code, 0, 'npx o11y-gate --help exits 0')
    t.match(help.stdout, /Usage: o11y-gate/, 'help shows the usage')

    const clean = await runCommand('npx', ['o11y-gate', '--files', 'app.mjs', 'app.cjs'], { cwd: consumer, env: consumerEnv, timeoutMs: 60_000 })
    if (!t.equal(clean.code, 0, 'the instrumented consumer apps pass the gate')) t.comment(clean.stdout + clean.stderr)
    t.match(clean.stdout, /with tracing 2\/2/, 'both handlers were checked')

    copyFileSync(join(FIXTURES, 'unobserved-routes.mjs'), join(consumer, 'unobserved-routes.mjs'))
    const gate = await runCommand('npx', ['o11y-gate', '--strict', '--files', 'unobserved-routes.mjs', '--format', 'json'], { cwd: consumer, env: consumerEnv, timeoutMs: 60_000 })
    t.equal(gate.code, 1, 'an uninstrumented route fails the gate with exit code 1')
    const report = JSON.parse(gate.stdout) as { findings: { ruleId: string, file: string, line: number }[] }
    t.match(report.findings, [{ ruleId: 'route-instrumented', file: 'unobserved-routes.mjs', line: 3 }], 'the finding names the rule, file and line')
  })

  await t.test('the lowest Fastify of the peer range (5.0.0) works too', async (t) => {
    const down = await runNpm(['install', 'fastify@5.0.0'], { cwd: consumer, env: consumerEnv, timeoutMs: 180_000 })
    if (!t.equal(down.code, 0, 'npm install fastify@5.0.0 exits 0')) return t.comment(down.stdout + down.stderr)
    const installed = JSON.parse(readFileSync(join(consumer, 'node_modules/fastify/package.json'), 'utf8')) as { version: string }
    t.equal(installed.version, '5.0.0', 'fastify 5.0.0 is installed')
    await t.test('app.cjs started with --require @o11y/tracing/register', (t) => exerciseConsumer(t, consumer, running, 'app.cjs', '--require'))
  })
})

/**
 * Starts a consumer app from the fresh install with the tracing register hook, sends requests and
 * checks what a user would see: /metrics, JSON log lines with trace ids, spans over OTLP.
 */
async function exerciseConsumer (t: Test, consumer: string, running: Running, file: 'app.mjs' | 'app.cjs', flag: '--import' | '--require'): Promise<void> {
  copyFileSync(join(FIXTURES, file), join(consumer, file))
  const service = `consumer-${file.endsWith('.mjs') ? 'esm' : 'cjs'}`
  const receiver = await startOtlpReceiver()
  running.receivers.push(receiver)
  const app = await startApp(process.execPath, [flag, '@o11y/tracing/register', file], {
    cwd: consumer,
    env: {
      ...baseEnv,
      OTEL_SERVICE_NAME: service,
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.tracesUrl
    },
    readyPattern: /consumer listening on (\d+)/,
    timeoutMs: 60_000
  })
  running.apps.push(app)
  const base = `http://127.0.0.1:${app.port}`

  for (let i = 0; i < REQUESTS; i++) {
    const res = await fetch(`${base}/api/orders/4${i}`)
    t.equal(res.status, 200, `GET /api/orders/4${i} answers 200`)
    const body = await res.json() as { id: string, db: number | null }
    t.equal(body.id, `4${i}`, 'the handler answered')
    if (process.env.DATABASE_URL) t.equal(body.db, 40 + i, 'the order id went through Postgres')
  }

  const scrape = await fetch(`${base}/metrics`)
  t.equal(scrape.status, 200, '/metrics answers 200')
  const text = await scrape.text()
  const red = { method: 'GET', route: ROUTE, status_code: '200' }
  t.match(text, metricLine('http_requests_total', red, REQUESTS), 'RED counter by route template')
  t.match(text, metricLine('http_request_duration_seconds_count', red, REQUESTS), 'latency histogram by route template')
  t.match(text, /^consumer_orders_served_total(\{\})? 3$/m, 'business counter from app.metrics')
  t.match(text, /^process_cpu_seconds_total /m, 'runtime metrics')
  const open = await fetch(`${base}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } })
  const openText = await open.text()
  const exemplarIds = [...openText.matchAll(/^http_request_duration_seconds_bucket\{[^}]*route="\/api\/orders\/:id"[^}]*\} \d+ # \{[^}]*trace_id="([0-9a-f]{32})"/gm)].map((m) => m[1]!)
  t.ok(exemplarIds.length > 0, 'OpenMetrics scrape carries trace_id exemplars on the latency histogram')

  await app.stop() // SIGTERM: the app closes Fastify, which flushes the spans
  // Errors, or warnings from our packages (third-party deprecation notices on newer Node are not ours).
  if (!t.equal(app.stderr().match(/Error|ERR_|O11y\w*Warning|@o11y\//g), null, 'no errors or @o11y warnings on stderr')) t.comment(app.stderr())

  // Log lines: one "request completed" line per request and the handler's own line, both
  // carrying the request's trace id.
  const requestLines = app.jsonLines().filter((l) => l.message === 'request completed' && l.route === ROUTE)
  if (!t.equal(requestLines.length, REQUESTS, 'one request line per request')) t.comment(app.stdout())
  const traceIds = new Set<string>()
  for (const line of requestLines) {
    t.match(line, { level: 'INFO', method: 'GET', status_code: 200, trace_id: HEX32, span_id: HEX16 }, 'request line fields')
    traceIds.add(String(line.trace_id))
  }
  t.equal(traceIds.size, REQUESTS, 'each request has its own trace id')
  const handlerLines = app.jsonLines().filter((l) => l.message === 'order loaded')
  t.equal(handlerLines.length, REQUESTS, 'the handler logged once per request')
  for (const line of handlerLines) {
    t.equal(line.logger, 'consumer', 'getLogger names the logger')
    t.ok(traceIds.has(String(line.trace_id)), 'handler line carries the trace id of its request')
  }
  for (const id of exemplarIds) t.ok(traceIds.has(id), 'exemplar trace id is one of the requests\' traces')

  // Spans, received over OTLP/HTTP by a real receiver.
  const spans = await waitFor(() => {
    const got = receiver.spans()
    return got.filter((s) => s.name === `GET ${ROUTE}`).length >= REQUESTS ? got : undefined
  }, { timeoutMs: 15_000, intervalMs: 100, description: 'SERVER spans' }).catch(() => receiver.spans())
  const servers = spans.filter((s) => s.name === `GET ${ROUTE}` && s.kind === SPAN_KIND_SERVER)
  if (!t.equal(servers.length, REQUESTS, `one SERVER span named "GET ${ROUTE}" per request`)) t.comment(`spans: ${spanNames(spans)}`)
  for (const span of servers) {
    t.ok(traceIds.has(span.traceId), 'SERVER span trace id matches a request log line')
    t.equal(span.resource['service.name'], service, 'service.name from OTEL_SERVICE_NAME')
  }
  for (const traceId of traceIds) {
    const inTrace = spans.filter((s) => s.traceId === traceId)
    t.ok(inTrace.some((s) => s.name === 'load_order'), 'withSpan child span in the trace')
    if (process.env.DATABASE_URL) {
      const pgSpan = inTrace.some((s) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql')
      if (!t.ok(pgSpan, 'pg query span in the trace')) t.comment(`spans: ${spanNames(inTrace)}`)
    }
  }
}

function seconds (since: number): string {
  return ((Date.now() - since) / 1000).toFixed(1)
}

function metricLine (name: string, labels: Record<string, string>, value: number): RegExp {
  // Labels in any order, possibly among others; the value exactly (an exemplar may follow).
  const lookaheads = Object.entries(labels).map(([k, v]) => `(?=[^}]*\\b${k}="${v.replace(/[/:]/g, (c) => `\\${c}`)}")`).join('')
  return new RegExp(`^${name}\\{${lookaheads}[^}]*\\} ${value}(?: .*)?$`, 'm')
}

function spanNames (spans: ReceivedSpan[]): string {
  return spans.map((s) => s.name).join(', ')
}
