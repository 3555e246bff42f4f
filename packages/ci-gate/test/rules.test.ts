import t from 'tap'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { analyzeFile, scanRegistrations } from '../src/analyzer'
import { loadConfig } from '../src/config'
import { FIXTURES, analyze, fixture, hits, lineOf, runCapture, tempDir } from './helpers'

t.test('route-instrumented', async (t) => {
  t.test('positive: handlers that do work without instrumentation, in every registration form', async (t) => {
    const text = fixture('route-positive.ts')
    const r = analyze('route-positive.ts')
    t.same(hits(r, 'route-instrumented'), [
      `route-instrumented@${lineOf(text, "app.get('/orders',")}`,
      `route-instrumented@${lineOf(text, "app.get('/orders/:id'")}`,
      `route-instrumented@${lineOf(text, 'app.route(')}`,
      `route-instrumented@${lineOf(text, "f.delete('/inside/:id'")}`
    ])
    t.same(r.handlers.map((h) => h.route), ['GET /orders', 'GET /orders/:id', 'POST,PUT /bulk', 'DELETE /inside/:id'])
    t.match(r.findings[0]?.message, 'route handler GET /orders has no tracing, metrics or logging')
    t.match(r.findings[0]?.fix, /withSpan/)
  })

  t.test('negative: no real work, or at least one category, is clean by default', async (t) => {
    const r = analyze('route-negative.ts')
    t.same(hits(r), [])
    t.same(r.handlers.map((h) => `${h.route}:${h.categories.join('+')}`), [
      'GET /traced:tracing', 'GET /logged:logging', 'GET /counted:metrics', 'POST /delegates:logging',
      'PATCH /business:metrics', 'OPTIONS /span:tracing'
    ], 'health, ping (no real work) and Map.get are not checked')
  })

  t.test('--strict (requiredCategories all) names the missing categories', async (t) => {
    const text = fixture('route-negative.ts')
    const r = analyze('route-negative.ts', { required: 'all' })
    t.equal(r.findings.length, 6)
    const logged = r.findings.find((f) => f.line === lineOf(text, "'/logged'"))
    t.equal(logged?.message, 'route handler GET /logged is missing tracing, metrics')
    const some = analyze('route-negative.ts', { required: ['logging'] })
    t.same(some.findings.map((f) => f.message).sort(), [
      'route handler GET /counted is missing logging',
      'route handler GET /traced is missing logging',
      'route handler OPTIONS /span is missing logging',
      'route handler PATCH /business is missing logging'
    ])
  })

  t.test('trap: calls in comments and strings do not count (JavaScript, CommonJS)', async (t) => {
    const text = fixture('route-trap.js')
    t.same(hits(analyze('route-trap.js')), [`route-instrumented@${lineOf(text, "app.get('/trap'")}`])
  })

  t.test('suppression needs a known rule and a reason', async (t) => {
    const text = fixture('route-suppressed.mts')
    const r = analyze('route-suppressed.mts')
    t.equal(r.suppressed, 2)
    t.same(hits(r), [
      `suppression-reason@${lineOf(text, '// o11y-gate-ignore route-instrumented\n')}`,
      `route-instrumented@${lineOf(text, "'/no-reason'")}`,
      `suppression-reason@${lineOf(text, 'made-up-rule')}`,
      `route-instrumented@${lineOf(text, "'/unknown-rule'")}`
    ])
    t.match(r.findings[0]?.message, 'gives no reason')
    t.match(r.findings[2]?.message, 'names unknown rule "made-up-rule"')
  })

  t.test('only handlers touched by the change are checked in diff mode', async (t) => {
    const text = fixture('route-positive.ts')
    const inside = lineOf(text, 'async function inside')
    const r = analyze('route-positive.ts', { changed: (a, b) => a <= inside && b >= inside })
    t.same(hits(r), [`route-instrumented@${inside}`])
    t.same(r.handlers.map((h) => h.route), ['DELETE /inside/:id'])
    const body = lineOf(text, "return db.query('select 1')")
    t.same(hits(analyze('route-positive.ts', { changed: (a, b) => a <= body && b >= body })), [`route-instrumented@${lineOf(text, "app.get('/orders/:id'")}`],
      'a change inside an identifier handler declared elsewhere in the file counts')
  })

  t.test('shapes: a destructured request logger counts; outgoing requests and lookups are not routes', async (t) => {
    const text = fixture('route-shapes.ts')
    const r = analyze('route-shapes.ts')
    t.same(r.handlers.map((h) => `${h.route}:${h.categories.join('+')}`), [
      'GET /destructured:logging', 'GET /renamed:logging', 'GET *:', 'GET :'
    ], 'http.get, axios.get, cache.get and a constant URL are not routes')
    t.same(hits(r), [
      `route-instrumented@${lineOf(text, "app.get('*'")}`,
      `route-instrumented@${lineOf(text, "f.get(''")}`
    ], 'console.log in an http.get callback is not inside a handler')
  })

  t.test('severity off silences the rule but still reports coverage', async (t) => {
    const r = analyze('route-positive.ts', { severities: { 'route-instrumented': 'off' } })
    t.same(hits(r), [])
    t.equal(r.handlers.length, 4)
  })
})

t.test('plugins-registered', async (t) => {
  const text = fixture('plugins.ts')
  const at = lineOf(text, 'Fastify()')
  t.test('positive: a project without tracing and logging', async (t) => {
    const r = analyze('plugins.ts', { registrations: { metrics: true, tracing: false, logging: false } })
    t.same(hits(r), [`plugins-registered@${at}`])
    t.equal(r.findings[0]?.message, 'this file creates a Fastify app with routes but its project never registers @o11y/tracing, the @o11y/logging logger')
  })
  t.test('negative: all three registered somewhere in the project', async (t) => {
    t.same(hits(analyze('plugins.ts', { registrations: { metrics: true, tracing: true, logging: true } })), [])
  })
  t.test('trap: files that create no Fastify app are not judged', async (t) => {
    t.same(hits(analyze('catch.ts', { registrations: { metrics: false, tracing: false, logging: false } }), 'plugins-registered'), [])
  })
})

t.test('opt-out-justified', async (t) => {
  const text = fixture('opt-out.ts')
  const r = analyze('opt-out.ts')
  t.same(hits(r), [
    `opt-out-justified@${lineOf(text, "'/silent'")}`,
    `opt-out-justified@${lineOf(text, "'/route-form'")}`,
    `opt-out-justified@${lineOf(text, "'/string-trap'")}`
  ], 'a comment before, after or after the comma justifies; a string does not; metrics: true is not an opt-out')
  t.equal(r.suppressed, 1)
  t.equal(r.findings[0]?.message, 'route GET /silent turns metrics off without a comment saying why')
})

t.test('no-console', async (t) => {
  const text = fixture('console.ts')
  const r = analyze('console.ts')
  t.same(hits(r, 'no-console'), [
    `no-console@${lineOf(text, "console.log('hit')")}`,
    `no-console@${lineOf(text, "console.warn('loaded')")}`,
    `no-console@${lineOf(text, "console.error('request')")}`,
    `no-console@${lineOf(text, "console.info('typed')")}`,
    `no-console@${lineOf(text, "console.log('hook')")}`,
    `no-console@${lineOf(text, "console.error('failed'")}`,
    `no-console@${lineOf(text, "console.warn('404')")}`
  ], 'handlers, register() plugins, fastify-plugin hooks, FastifyInstance functions, app hooks and error/not-found handlers; not other code, comments or strings')
  t.equal(r.findings.find((f) => f.line === lineOf(text, "console.log('hook')"))?.message, 'console.log() inside a Fastify hook or error handler')
  t.equal(r.suppressed, 1)
})

t.test('label-cardinality', async (t) => {
  const text = fixture('labels.ts')
  const r = analyze('labels.ts')
  t.same(r.findings.filter((f) => f.ruleId === 'label-cardinality').map((f) => `${f.line}:${f.message}`), [
    `${lineOf(text, 'route: (request.params')}:label "route" of c.inc() takes its value from request params`,
    `${lineOf(text, 'path: request.url')}:label "path" of c.inc() takes its value from a URL`,
    `${lineOf(text, "c.labels(request.headers['user-agent'])")}:a label of c.labels() takes its value from request headers`,
    `${lineOf(text, 'order_id')}:label "order_id" of h.observe() is an id-like label`,
    `${lineOf(text, 'c.inc({ customer })')}:label "customer" of c.inc() takes its value from request body`,
    `${lineOf(text, 'user: userId')}:label "user" of c.inc() is an id-like label`,
    `${lineOf(text, 'new URL')}:label "where" of c.inc() takes its value from a URL`,
    `${lineOf(text, "end({ tenantId: 'fixed' })")}:label "tenantId" of end() is an id-like label`,
    `${lineOf(text, 'endFor({ route: request.url })')}:label "route" of endFor() takes its value from a URL`
  ], 'the end function of startTimer() takes labels too')
  t.equal(r.suppressed, 1)
})

t.test('error-observed', async (t) => {
  const text = fixture('catch.ts')
  const r = analyze('catch.ts')
  const fnLine = (name: string): number => lineOf(text, `function ${name} (`) + 1
  t.same(hits(r), ['swallow', 'repliesOnly', 'noBinding', 'trap'].map((n) => `error-observed@${fnLine(n)}`),
    'rethrow, log, span record, hand-off and metric count are observed; a reply with err.message, comments and strings are not')
  t.equal(r.suppressed, 1, 'a directive on the first line of the catch block applies')
  t.equal(r.findings[0]?.message, 'catch block in swallow neither rethrows, logs nor records the error on a span')
})

t.test('fingerprints do not depend on line numbers', async (t) => {
  const a = analyze('route-positive.ts')
  const shiftedText = '// a new header line\n\n' + fixture('route-positive.ts')
  const b = analyzeFile({
    file: 'route-positive.ts',
    text: shiftedText,
    rules: { severity: () => 'error', requiredCategories: 'any' },
    projectRegistrations: { metrics: true, tracing: true, logging: true }
  })
  t.same(b.findings.map((f) => f.fingerprint), a.findings.map((f) => f.fingerprint))
  t.same(b.findings.map((f) => f.line), a.findings.map((f) => f.line + 2))
  t.equal(new Set(a.findings.map((f) => f.fingerprint)).size, a.findings.length, 'unique per finding')
})

t.test('plugins-registered across a project: registrations in other files count, comments, strings and tests do not', async (t) => {
  const app = [
    "import Fastify from 'fastify'",
    "import { routes } from './routes.js'",
    'export function build () {',
    '  const app = Fastify()',
    '  app.register(routes)',
    '  return app',
    '}',
    ''
  ].join('\n')
  const plugins = [
    "import o11yMetrics from '@o11y/metrics'",
    "const { o11yTracing } = require('@o11y/tracing')",
    "import { fastifyLoggerOptions } from '@o11y/logging'",
    'export const loggerOptions = fastifyLoggerOptions()',
    'export async function observability (app: any) {',
    '  await app.register(o11yMetrics)',
    '  await app.register(o11yTracing)',
    '}',
    ''
  ].join('\n')
  const trap = [
    "import o11yMetrics from '@o11y/metrics'",
    '// app.register(o11yTracing)',
    "const s = 'app.register(o11yLogging)'",
    'export async function only (app: any) { await app.register(o11yMetrics); return s }',
    ''
  ].join('\n')
  t.same(scanRegistrations('trap.ts', trap), { metrics: true, tracing: false, logging: false })
  t.same(scanRegistrations('plugins.ts', plugins), { metrics: true, tracing: true, logging: true })
  t.same(scanRegistrations('inline.cjs', "module.exports = (app) => { app.register(require('@o11y/tracing')); app.register(import('@o11y/logging')) }"),
    { metrics: false, tracing: true, logging: true })

  const good = tempDir(t, { 'package.json': '{}', 'src/app.ts': app, 'src/plugins.ts': plugins })
  t.equal(runCapture(['--all'], good).exitCode, 0)
  const bad = tempDir(t, { 'package.json': '{}', 'src/app.ts': app, 'src/trap.ts': trap, 'test/setup.ts': plugins, 'src/plugins.test.ts': plugins })
  const r = runCapture(['--all', '--format', 'json'], bad)
  t.same(JSON.parse(r.stdout).findings.map((f: { file: string, message: string }) => `${f.file}: ${f.message}`), [
    'src/app.ts: this file creates a Fastify app with routes but its project (.) never registers @o11y/tracing, the @o11y/logging logger'
  ])
  // a nested package is its own project
  const mono = tempDir(t, { 'package.json': '{}', 'src/plugins.ts': plugins, 'apps/api/package.json': '{}', 'apps/api/src/app.ts': app })
  t.same(JSON.parse(runCapture(['--all', '--format', 'json'], mono).stdout).findings.map((f: { message: string }) => f.message),
    ['this file creates a Fastify app with routes but its project (apps/api) never registers @o11y/metrics, @o11y/tracing, the @o11y/logging logger'])
})

t.test('the repository\'s own .o11y-gate.json is valid', async (t) => {
  const root = join(__dirname, '..', '..', '..')
  const loaded = loadConfig(root, '.o11y-gate.json', root)
  t.ok(loaded.config.exclude?.includes('packages/test-utils/**'))
})

t.test('plugins-registered can be suppressed on the line that creates the app', async (t) => {
  const text = fixture('plugins.ts').replace('  const app = Fastify()', '  // o11y-gate-ignore plugins-registered: a throwaway app for the schema dump\n  const app = Fastify()')
  const r = analyzeFile({
    file: 'plugins.ts',
    text,
    rules: { severity: () => 'error', requiredCategories: 'any' },
    projectRegistrations: { metrics: false, tracing: false, logging: false }
  })
  t.same(hits(r), [])
  t.equal(r.suppressed, 1)
})

t.test('baseline: one finding of every rule is accepted, and stays accepted when the code moves', async (t) => {
  const dir = tempDir(t)
  cpSync(join(FIXTURES, 'project'), dir, { recursive: true })
  const before = runCapture(['--all', '--format', 'json', '--write-baseline', 'baseline.json'], dir)
  t.equal(before.exitCode, 0)
  const rules = new Set(JSON.parse(before.stdout).findings.map((f: { ruleId: string }) => f.ruleId))
  t.same([...rules].sort(), ['error-observed', 'label-cardinality', 'no-console', 'opt-out-justified', 'plugins-registered', 'route-instrumented'])
  for (const file of ['src/app.ts', 'src/routes/orders.ts', 'src/odd,name:file.ts']) {
    const path = join(dir, file)
    writeFileSync(path, '// a licence header\n// that moves everything down\n\n' + readFileSync(path, 'utf8'))
  }
  const after = runCapture(['--all', '--format', 'json', '--baseline', 'baseline.json'], dir)
  t.equal(after.exitCode, 0)
  t.same(JSON.parse(after.stdout).findings, [])
  t.equal(JSON.parse(after.stdout).summary.baselined, 7)
})

t.test('route paths held in same-file constants are shown resolved', async (t) => {
  const text = [
    "const ROUTES = { order: '/api/orders/:id' } as const",
    "const HEALTH = '/health'",
    'export function routes (app: any, db: any, paths: any) {',
    '  app.get(ROUTES.order, async () => db.get())',
    '  app.get(HEALTH, async () => db.ping())',
    '  app.get(paths.other, async () => db.other())',
    '}'
  ].join('\n')
  const r = analyzeFile({ file: 'r.ts', text, rules: { severity: () => 'error', requiredCategories: 'any' } })
  t.same(r.handlers.map((h) => h.route), ['GET /api/orders/:id', 'GET /health', 'GET paths.other'])
})

t.test('label-cardinality: a value validated against a schema enum or typed as a literal union is bounded', async (t) => {
  const text = fixture('labels-bounded.ts')
  const r = analyze('labels-bounded.ts')
  t.same(r.findings.filter((f) => f.ruleId === 'label-cardinality').map((f) => `${f.line}:${f.message}`), [
    `${lineOf(text, "c.inc({ status: (request.params as { status: string }).status })\n})\napp.get('/other")}:label "status" of c.inc() takes its value from request params`,
    `${lineOf(text, 'c.inc({ state: (request.params')}:label "state" of c.inc() takes its value from request params`,
    `${lineOf(text, 'c.inc({ sort: request.query.sort })')}:label "sort" of c.inc() takes its value from request query`,
    `${lineOf(text, "c.inc({ agent: request.headers['user-agent'] as string })")}:label "agent" of c.inc() takes its value from request headers`
  ], 'enum, const and TypeBox literals on params, querystring, body and headers; route generics, request types, casts, typed variables and enums; not a schema without enum, another part, a plain string type')
  t.equal(r.findings.length, 4)
})

t.test('opt-out-justified: a comment on the lines directly above the route registration is a reason', async (t) => {
  const text = fixture('opt-out-above.ts')
  const r = analyze('opt-out-above.ts')
  t.same(hits(r), [
    `opt-out-justified@${lineOf(text, "'/gap'")}`,
    `opt-out-justified@${lineOf(text, "'/admin/ping'")}`,
    `opt-out-justified@${lineOf(text, "'/directive'")}`,
    `opt-out-justified@${lineOf(text, "'/bare'")}`
  ], 'one or more comment lines directly above, line or block, in a plugin too; not across a blank line or another statement; a directive is not a reason')
})
