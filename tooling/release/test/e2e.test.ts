// End to end: publish every public package with the project's own `pnpm release` into a private
// Verdaccio, install them with plain npm into a folder outside the workspace, and run an ESM and a
// CommonJS consumer app that use nothing but what came from the registry.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { cleanEnv, publicPackages, runCommand, startApp, startVerdaccio, strayFiles, waitFor, type App, type Registry } from '../src/index'

const ROOT = resolve(__dirname, '../../..')
const FIXTURES = join(__dirname, 'fixtures/consumer')
const CONSUMER_DEPS = ['@o11y/metrics', '@o11y/tracing', '@o11y/logging', '@o11y/ci-gate', 'fastify', 'pg']
const ROUTE = '/api/orders/:id'
const REQUESTS = 3
const HEX32 = /^[0-9a-f]{32}$/
const HEX16 = /^[0-9a-f]{16}$/

const baseEnv = cleanEnv(process.env)
const packages = publicPackages(ROOT, baseEnv)

/** The registry this machine's npm talks to; Verdaccio proxies everything but @o11y to it. */
function upstreamRegistry (cwd: string): string {
  const value = execFileSync('npm', ['config', 'get', 'registry'], { cwd, env: baseEnv, encoding: 'utf8' }).trim()
  return /^https?:\/\//.test(value) ? value : 'https://registry.npmjs.org/'
}

interface Packument { versions: Record<string, { dist: { tarball: string, integrity: string }, [k: string]: any }>, 'dist-tags': Record<string, string> }

async function packument (registry: Registry, name: string): Promise<Packument | undefined> {
  const res = await fetch(new URL(name.replace('/', '%2f'), registry.url))
  return res.ok ? await res.json() as Packument : undefined
}

t.test('tarballs built from the workspace hold dist, README, LICENSE and package.json only', async (t) => {
  t.ok(packages.length >= 4, `public packages found: ${packages.map((p) => p.name).join(', ')}`)
  // npm pack walks each package's node_modules (slow under pnpm): all packages at once.
  const packs = await Promise.all(packages.map((pkg) => runCommand('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: pkg.path, env: baseEnv, timeoutMs: 90_000 })))
  for (const [i, pkg] of packages.entries()) {
    if (!t.equal(packs[i]!.code, 0, `${pkg.name}: npm pack --dry-run exits 0`)) continue
    const files = (JSON.parse(packs[i]!.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path).sort()
    t.same(strayFiles(files, pkg.manifest), [], `${pkg.name}: nothing but dist, README.md, LICENSE, package.json and bin`)
    for (const need of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']) {
      t.ok(files.includes(need), `${pkg.name}: tarball has ${need}`)
    }
  }
})

t.test('publish to a private registry with pnpm release, consume with plain npm', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'o11y-release-e2e-'))
  const running: { registry?: Registry, apps: App[] } = { apps: [] }
  // Runs when the test ends, passed or failed: consumer apps, then the registry, then the files.
  t.teardown(async () => {
    for (const app of running.apps) await app.stop()
    await running.registry?.stop()
    rmSync(work, { recursive: true, force: true })
  })

  const registry = running.registry = await startVerdaccio({ dir: join(work, 'registry'), uplink: upstreamRegistry(work) })
  const token = await registry.addUser('release-bot', 'e2e-' + Math.random().toString(36).slice(2))
  const host = new URL(registry.url).host

  // The release is pointed at the registry by configuration only: a user .npmrc, as CI writes it.
  const releaseRc = join(work, 'release.npmrc')
  writeFileSync(releaseRc, `@o11y:registry=${registry.url}\n//${host}/:_authToken=${token}\n`)
  const release = await runCommand('pnpm', ['release', '--skip-build'], {
    cwd: ROOT,
    env: { ...baseEnv, npm_config_userconfig: releaseRc },
    timeoutMs: 150_000
  })
  if (!t.equal(release.code, 0, 'pnpm release exits 0')) {
    t.comment(release.stdout + release.stderr)
    return
  }
  t.match(release.stdout, new RegExp(`publishing to ${registry.url.replace(/[.]/g, '\\.')}`), 'release names the configured registry')

  await t.test('the registry holds every public package with real ranges and clean tarballs', async (t) => {
    for (const pkg of packages) {
      const doc = await packument(registry, pkg.name)
      const published = doc?.versions[pkg.version]
      if (!t.ok(published, `${pkg.name}@${pkg.version} is on the registry`)) continue
      const ranges = JSON.stringify([published!.dependencies, published!.peerDependencies, published!.optionalDependencies, published!.devDependencies])
      t.notMatch(ranges, /workspace:|catalog:/, `${pkg.name}: no workspace: or catalog: ranges in the published manifest`)
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
  const install = await runCommand('npm', ['install', ...CONSUMER_DEPS], { cwd: consumer, env: consumerEnv, timeoutMs: 150_000 })
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
    await t.test(`${file} started with ${flag} @o11y/tracing/register`, async (t) => {
      copyFileSync(join(FIXTURES, file), join(consumer, file))
      const service = `consumer-${file.endsWith('.mjs') ? 'esm' : 'cjs'}`
      const app = await startApp(process.execPath, [flag, '@o11y/tracing/register', file], {
        cwd: consumer,
        env: {
          ...baseEnv,
          OTEL_SERVICE_NAME: service,
          OTEL_TRACES_EXPORTER: 'console',
          OTEL_METRICS_EXPORTER: 'none',
          OTEL_LOGS_EXPORTER: 'none',
          OTEL_BSP_SCHEDULE_DELAY: '100'
        },
        readyPattern: /consumer listening on (\d+)/,
        timeoutMs: 30_000
      })
      running.apps.push(app)
      const base = `http://127.0.0.1:${app.port}`

      for (let i = 0; i < REQUESTS; i++) {
        const res = await fetch(`${base}/api/orders/4${i}`)
        t.equal(res.status, 200, `GET /api/orders/4${i} answers 200`)
        const body = await res.json() as { id: string, db: number | null }
        t.equal(body.id, `4${i}`)
        if (process.env.DATABASE_URL) t.equal(body.db, 40 + i, 'the order id went through Postgres')
      }

      const scrape = await fetch(`${base}/metrics`)
      t.equal(scrape.status, 200, '/metrics answers 200')
      const text = await scrape.text()
      t.match(text, metricLine('http_requests_total', { method: 'GET', route: ROUTE, status_code: '200' }, REQUESTS), 'RED counter by route template')
      t.match(text, metricLine('http_request_duration_seconds_count', { method: 'GET', route: ROUTE, status_code: '200' }, REQUESTS), 'latency histogram by route template')
      t.match(text, /^consumer_orders_served_total(\{\})? 3$/m, 'business counter from app.metrics')
      t.match(text, /^process_cpu_seconds_total /m, 'runtime metrics')

      // Log lines: one "request completed" line per request and the handler's own line, both
      // carrying the request's trace id.
      const requestLines = await waitFor(() => {
        const lines = app.jsonLines().filter((l) => l.message === 'request completed' && l.route === ROUTE)
        return lines.length >= REQUESTS ? lines : undefined
      }, 10_000, 'request log lines').catch(() => [])
      t.equal(requestLines.length, REQUESTS, `one request line per request\n${app.stdout()}`)
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

      // Spans: the console exporter prints each span object; the SERVER span is named by route.
      const spans = await waitFor(() => {
        const found = consoleSpans(app.stdout())
        const servers = found.filter((s) => s.name === `GET ${ROUTE}`)
        return servers.length >= REQUESTS ? found : undefined
      }, 15_000, 'exported spans').catch(() => consoleSpans(app.stdout()))
      const serverSpans = spans.filter((s) => s.name === `GET ${ROUTE}`)
      t.equal(serverSpans.length, REQUESTS, `one SERVER span per request\n${app.stdout()}`)
      for (const span of serverSpans) t.ok(traceIds.has(span.traceId), 'SERVER span trace id matches the log line')
      t.equal(spans.filter((s) => s.name === 'load_order' && traceIds.has(s.traceId)).length, REQUESTS, 'withSpan child span in each trace')

      await app.stop()
      t.equal(app.stderr().match(/Error|ERR_/g), null, `no errors on stderr\n${app.stderr()}`)
    })
  }

  await t.test('o11y-gate runs from the installed package', async (t) => {
    const help = await runCommand('npx', ['o11y-gate', '--help'], { cwd: consumer, env: consumerEnv, timeoutMs: 30_000 })
    t.equal(help.code, 0, 'npx o11y-gate --help exits 0')
    t.match(help.stdout, /o11y-gate/, 'help names the command')
  })
})

function metricLine (name: string, labels: Record<string, string>, value: number): RegExp {
  // Labels in any order, possibly among others; the value exactly.
  const lookaheads = Object.entries(labels).map(([k, v]) => `(?=[^}]*\\b${k}="${v.replace(/[/:]/g, (c) => `\\${c}`)}")`).join('')
  return new RegExp(`^${name}\\{${lookaheads}[^}]*\\} ${value}(?: \\S+)?$`, 'm')
}

/** Spans printed by OpenTelemetry's ConsoleSpanExporter (util.inspect of each span). */
function consoleSpans (stdout: string): { traceId: string, name: string }[] {
  const spans: { traceId: string, name: string }[] = []
  for (const m of stdout.matchAll(/^\s*traceId: '([0-9a-f]{32})',[\s\S]*?^\s*name: '([^']*)'/gm)) {
    spans.push({ traceId: m[1]!, name: m[2]! })
  }
  return spans
}
