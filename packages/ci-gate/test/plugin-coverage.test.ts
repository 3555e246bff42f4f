import t from 'tap'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { scanPackageJson } from '../src/analyzer'
import { FIXTURES, runCapture, tempDir, writeFiles } from './helpers'

// test/fixtures/app: a Fastify application shaped like real ones (autoloaded route folders
// routes/<area>/index.ts, a plugins/ folder, 13 routes of which 12 do real work), written for
// this test. test/fixtures/app-observability/observability.ts is the one file that registers
// @o11y/tracing, @o11y/metrics and @o11y/logging for the whole app.
const OBSERVABILITY = readFileSync(join(FIXTURES, 'app-observability', 'observability.ts'), 'utf8')

function app (t: Parameters<typeof tempDir>[0]): string {
  const dir = tempDir(t)
  cpSync(join(FIXTURES, 'app'), dir, { recursive: true })
  return dir
}

interface Json { findings: { ruleId: string, file: string, message: string }[], handlers: { route: string, categories: string[], plugins?: string[] }[] }

function gate (dir: string, ...flags: string[]): Json & { exitCode: number } {
  const r = runCapture(['--all', '--format', 'json', ...flags], dir)
  return { ...JSON.parse(r.stdout) as Json, exitCode: r.exitCode }
}

const instrumented = (j: Json): string[] => j.findings.filter((f) => f.ruleId === 'route-instrumented').map((f) => f.message.replace(/^route handler | has no .*| is missing .*$/g, ''))

const ROUTES = [
  'POST /login', 'POST /logout', 'GET /', 'GET /:id', 'GET /', 'GET /:id', 'POST /', 'POST /:id/cancel',
  'GET /', 'GET /:sku', 'PUT /:sku/price', 'GET /daily'
]

t.test('before the plugin file every handler is flagged; after it none in the default mode, all in strict mode', async (t) => {
  const dir = app(t)
  const before = gate(dir)
  t.equal(before.exitCode, 1)
  t.same(instrumented(before), ROUTES, 'all 12 handlers that do work (not GET /health)')
  t.ok(before.findings.some((f) => f.ruleId === 'plugins-registered' && f.file === 'src/app.ts'))

  writeFiles(dir, { 'src/plugins/observability.ts': OBSERVABILITY })
  const after = gate(dir)
  t.equal(after.exitCode, 0)
  t.same(after.findings, [], 'the plugins observe every route')
  t.equal(after.handlers.length, 12)
  t.ok(after.handlers.every((h) => h.categories.length === 0 && h.plugins?.join() === 'tracing,metrics,logging'), 'coverage comes from the plugins, not the handlers')

  const stylish = runCapture(['--all'], dir).stdout
  t.match(stylish, 'Route handlers checked: 12; with tracing 0/12, metrics 0/12, logging 0/12; observed through the registered @o11y plugins 12/12.')

  const strict = gate(dir, '--strict')
  t.equal(strict.exitCode, 1)
  t.same(instrumented(strict), ROUTES, '--strict asks every handler for its own signals')
  t.ok(strict.findings.every((f) => f.message.endsWith('is missing tracing, metrics, logging')))

  writeFileSync(join(dir, '.o11y-gate.json'), JSON.stringify({ requiredCategories: ['logging'] }))
  const configured = gate(dir)
  t.same(instrumented(configured), ROUTES, 'requiredCategories in the config does too')
  t.ok(configured.findings.every((f) => f.message.endsWith('is missing logging')))

  writeFileSync(join(dir, '.o11y-gate.json'), JSON.stringify({ overrides: [{ files: ['src/routes/orders/**'], requiredCategories: 'any' }] }))
  t.same(instrumented(gate(dir)), ['GET /', 'GET /:id', 'POST /', 'POST /:id/cancel'], 'an override asks only the files it matches')
})

t.test('the tracing register entry in package.json scripts counts as registering tracing', async (t) => {
  const dir = app(t)
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  writeFiles(dir, { 'src/plugins/observability.ts': OBSERVABILITY.replace("  await fastify.register(o11yTracing)\n", '') })
  t.equal(instrumented(gate(dir)).length, 12, 'metrics and logging plugins alone: handlers still need a signal of their own')
  pkg.scripts.start = 'node --import @o11y/tracing/register dist/server.js'
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg))
  t.same(gate(dir).findings, [])
  pkg.scripts.start = "node --import='@o11y/tracing/register' dist/server.js"
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg))
  t.same(gate(dir).findings, [], 'quoted, with =')
  pkg.scripts.start = 'node --import @o11y/tracing/registerx dist/server.js'
  pkg.scripts.note = 'echo use node --import @o11y/tracing-register'
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg))
  t.equal(instrumented(gate(dir)).length, 12, 'a look-alike specifier does not count')
  const none = { registrations: { metrics: false, tracing: false, logging: false }, plugins: { metrics: false, tracing: false, logging: false } }
  t.same(scanPackageJson('{ "scripts": '), none, 'a broken package.json registers nothing')
  t.same(scanPackageJson('{ "scripts": ["node --import @o11y/tracing/register a.js"] }').plugins.tracing, true)
  t.same(scanPackageJson('{ "scripts": null }'), none)
  t.same(scanPackageJson('{ "scripts": { "a": 1, "b": "node -r @o11y/tracing/register a.js" } }').plugins.tracing, true, '-r (CommonJS)')
})

t.test('registrations that do not run, and routes that opt out, are not covered', async (t) => {
  const dir = app(t)
  writeFiles(dir, {
    'src/plugins/observability.ts': OBSERVABILITY.replace('await fastify.register(o11yLogging)', '// await fastify.register(o11yLogging)'),
    'test/setup.ts': OBSERVABILITY,
    'src/plugins/observability.test.ts': OBSERVABILITY
  })
  t.equal(instrumented(gate(dir)).length, 12, 'a commented-out register call and registrations in tests do not count')

  writeFiles(dir, { 'src/plugins/observability.ts': OBSERVABILITY })
  const orders = join(dir, 'src', 'routes', 'orders', 'index.ts')
  writeFileSync(orders, readFileSync(orders, 'utf8').replace("fastify.get('/', async () => {",
    "// an export for the data warehouse, observed by its own job\n  fastify.get('/', { config: { metrics: false, tracing: false, logging: false } }, async () => {"))
  const r = gate(dir)
  t.same(instrumented(r), ['GET /'], 'a route that opts out of every plugin needs its own signals')
  t.same(r.handlers.find((h) => h.plugins === undefined)?.route, 'GET /')

  writeFileSync(orders, readFileSync(orders, 'utf8').replace('metrics: false, tracing: false, logging: false', 'metrics: false'))
  t.same(gate(dir).findings, [], 'opting out of one plugin leaves the route observed by the other two')
})
