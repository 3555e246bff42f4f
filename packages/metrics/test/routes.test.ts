import { spawnSync } from 'node:child_process'
import { requireTool, startPrometheus } from '@o11y/test-utils'
import t from 'tap'
import { buildApp, find, OPENMETRICS_ACCEPT, parseSamples, scrape } from './fixtures/helpers'

// Issue 19: status-code classes and per-route overrides (buckets, static labels) from route config.

t.test("statusCodes: 'class' records exactly 2xx, 3xx, 4xx and 5xx", async (t) => {
  const app = await buildApp(t, { statusCodes: 'class' })
  const codes = [200, 201, 204, 301, 302, 304, 400, 401, 404, 418, 429, 500, 502, 503]
  for (const code of codes) app.get(`/s${code}`, async (_req, reply) => reply.code(code).send())
  app.get('/throws', async () => { throw new Error('x') })
  for (const code of codes) await app.inject(`/s${code}`)
  await app.inject('/throws')
  await app.inject('/no/such/route')
  const { samples } = await scrape(app)
  const values = new Set(samples.filter((s) => s.name.startsWith('http_request')).map((s) => s.labels.status_code).filter((v) => v !== undefined))
  t.same([...values].sort(), ['2xx', '3xx', '4xx', '5xx'], 'exactly these status_code values')
  t.same(find(samples, 'http_requests_total', { route: '/s503' }).map((s) => [s.labels.status_code, s.value]), [['5xx', 1]])
  t.equal(find(samples, 'http_requests_total', { route: '__unmatched__' })[0]?.labels.status_code, '4xx')
  const total = find(samples, 'http_requests_total').reduce((n, s) => n + s.value, 0)
  t.equal(total, codes.length + 2, 'every request counted once')
})

t.test("statusCodes: 'class' is the default off: exact codes", async (t) => {
  const app = await buildApp(t)
  app.get('/c', async (_req, reply) => reply.code(201).send())
  await app.inject('/c')
  t.equal(find((await scrape(app)).samples, 'http_requests_total', { route: '/c' })[0]?.labels.status_code, '201')
})

t.test("statusCodes: 'class' with naming: 'otel' (status and error_type of a 5xx without an exception)", async (t) => {
  const app = await buildApp(t, { statusCodes: 'class', naming: 'otel' })
  app.get('/down', async (_req, reply) => reply.code(503).send())
  app.get('/ok', async (_req, reply) => reply.code(204).send())
  app.get('/fail', async () => { throw new RangeError('x') })
  for (const url of ['/down', '/ok', '/fail']) await app.inject(url)
  const { samples } = await scrape(app)
  t.same(find(samples, 'http_server_request_duration_seconds_count').map((s) => [s.labels, s.value]), [
    [{ http_request_method: 'GET', http_route: '/down', http_response_status_code: '5xx', error_type: '5xx' }, 1],
    [{ http_request_method: 'GET', http_route: '/ok', http_response_status_code: '2xx' }, 1],
    [{ http_request_method: 'GET', http_route: '/fail', http_response_status_code: '5xx', error_type: 'RangeError' }, 1]
  ])
})

t.test('per-route buckets: that route\'s series carry its le set, other routes keep the plugin\'s', async (t) => {
  const app = await buildApp(t, { buckets: [0.1, 1] })
  app.get('/slow-report', { config: { metrics: { buckets: [1, 5, 30, 120] } } }, async () => 'ok')
  app.get('/fast', async () => 'ok')
  await app.inject('/slow-report')
  await app.inject({ method: 'HEAD', url: '/slow-report' })
  await app.inject('/fast')
  const { samples } = await scrape(app)
  const le = (route: string, method = 'GET'): string[] => find(samples, 'http_request_duration_seconds_bucket', { route, method }).map((s) => s.labels.le as string)
  t.same(le('/slow-report'), ['1', '5', '30', '120', '+Inf'])
  t.same(le('/slow-report', 'HEAD'), ['1', '5', '30', '120', '+Inf'], 'the HEAD route Fastify adds gets the same buckets')
  t.same(le('/fast'), ['0.1', '1', '+Inf'])
  t.equal(find(samples, 'http_request_duration_seconds_bucket', { route: '/slow-report', method: 'GET', le: '+Inf' })[0]?.value, 1)
  t.equal(find(samples, 'http_request_duration_seconds_bucket', { route: '/slow-report', method: 'GET', le: '1' })[0]?.value, 1, 'a fast request falls into the first bucket')
  // OpenMetrics renders the same per-series le sets.
  const om = parseSamples((await app.inject({ url: '/metrics', headers: { accept: OPENMETRICS_ACCEPT } })).body)
  t.same(find(om, 'http_request_duration_seconds_bucket', { route: '/slow-report', method: 'GET' }).map((s) => s.labels.le), ['1', '5', '30', '120', '+Inf'])
})

t.test('per-route static labels fill declared labelNames and win over the label function', async (t) => {
  const app = await buildApp(t, { labelNames: ['team', 'tenant'], labels: (req) => ({ team: 'platform', tenant: String(req.headers['x-tenant'] ?? 'none') }) })
  app.get('/payments', { config: { metrics: { labels: { team: 'payments' } } } }, async () => 'ok')
  app.get('/static-only', { config: { metrics: { labels: { team: 'search', tenant: 7 } } } }, async () => 'ok')
  app.get('/plain', async () => 'ok')
  await app.inject({ url: '/payments', headers: { 'x-tenant': 'acme' } })
  await app.inject({ url: '/payments', headers: { 'x-tenant': 'acme' } })
  await app.inject('/static-only')
  await app.inject({ url: '/plain', headers: { 'x-tenant': 'globex' } })
  const { samples } = await scrape(app)
  t.same(find(samples, 'http_requests_total').map((s) => [s.labels.route, s.labels.team, s.labels.tenant, s.value]), [
    ['/payments', 'payments', 'acme', 2],
    ['/static-only', 'search', '7', 1],
    ['/plain', 'platform', 'globex', 1]
  ])
})

t.test('static labels without a label function use the fast path and still reach the scrape', async (t) => {
  const app = await buildApp(t, { labelNames: ['team'] })
  app.get('/a', { config: { metrics: { labels: { team: 'checkout' }, buckets: [0.5] } } }, async () => 'ok')
  app.get('/b', async () => 'ok')
  for (let i = 0; i < 3; i++) await app.inject('/a')
  await app.inject('/b')
  const { samples } = await scrape(app)
  t.same(find(samples, 'http_requests_total').map((s) => [s.labels.route, s.labels.team, s.value]), [['/a', 'checkout', 3], ['/b', undefined, 1]])
  t.same(find(samples, 'http_request_duration_seconds_bucket', { route: '/a' }).map((s) => [s.labels.le, s.labels.team]), [['0.5', 'checkout'], ['+Inf', 'checkout']])
})

t.test("per-route buckets and labels with naming: 'otel'", async (t) => {
  const app = await buildApp(t, { naming: 'otel', labelNames: ['team'] })
  app.get('/r', { config: { metrics: { buckets: [0.25, 2], labels: { team: 'core' } } } }, async () => 'ok')
  app.get('/e', { config: { metrics: { buckets: [0.25, 2], labels: { team: 'core' } } } }, async () => { throw new TypeError('x') })
  await app.inject('/r')
  await app.inject('/e')
  const { samples } = await scrape(app)
  t.same(find(samples, 'http_server_request_duration_seconds_bucket', { http_route: '/r' }).map((s) => [s.labels.le, s.labels.team]), [['0.25', 'core'], ['2', 'core'], ['+Inf', 'core']])
  t.same(find(samples, 'http_server_request_duration_seconds_bucket', { http_route: '/e' }).map((s) => [s.labels.le, s.labels.error_type]), [['0.25', 'TypeError'], ['2', 'TypeError'], ['+Inf', 'TypeError']])
})

t.test('a bad route override is a coded error when the route is added, naming the route', async (t) => {
  const app = await buildApp(t, { labelNames: ['team'] })
  const bad: Array<[string, unknown, RegExp]> = [
    ['unknown key', { bucket: [1] }, /route \/bad: config\.metrics\."bucket"/],
    ['buckets not increasing', { buckets: [1, 1] }, /buckets must be/],
    ['buckets empty', { buckets: [] }, /buckets must be/],
    ['buckets with NaN', { buckets: [Number.NaN] }, /buckets must be/],
    ['buckets not an array', { buckets: '1,2' }, /buckets must be/],
    ['undeclared label', { labels: { tenant: 'x' } }, /"tenant" is not declared in the `labelNames` option/],
    ['built-in label', { labels: { route: '/other' } }, /"route" is a built-in label/],
    ['reserved le', { labels: { le: '1' } }, /"le" is a built-in label/],
    ['label value an object', { labels: { team: { a: 1 } } }, /must be a string, number or boolean, got object/],
    ['label value null', { labels: { team: null } }, /got null/],
    ['labels a string', { labels: 'team=x' }, /labels must be a function or an object/],
    ['config an array', [], /got an array/],
    ['config a string', 'yes', /got string/]
  ]
  for (const [title, metrics, message] of bad) {
    t.throws(() => app.get('/bad', { config: { metrics: metrics as never } }, async () => 'ok'), { code: 'O11Y_ERR_METRICS_ROUTE_CONFIG', message }, title)
  }
})

t.test('per-route buckets pass promtool check metrics and a real Prometheus scrape computes a quantile per route (OpenMetrics scrape)', { skip: requireTool('promtool').skip || requireTool('prometheus').skip, timeout: 120_000 }, async (t) => {
  const app = await buildApp(t, { runtimeMetrics: false })
  app.get('/report', { config: { metrics: { buckets: [1, 5, 30] } } }, async () => 'ok')
  app.get('/item', async () => 'ok')
  await app.inject('/report')
  await app.inject('/item')
  // promtool (2.42) reads the text format only; the OpenMetrics side is checked by the real
  // Prometheus below, which asks for OpenMetrics first.
  const { text, status } = await scrape(app)
  t.equal(status, 200)
  const res = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
  t.equal(res.status, 0, `promtool check metrics exit code: ${res.stderr}${res.stdout}`)
  t.equal(res.stderr.trim(), '', 'no lint findings')

  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const prom = await startPrometheus({
    configYaml: `
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: routes-test
    static_configs:
      - targets: ['127.0.0.1:${port}']
`
  })
  t.teardown(() => prom.stop())
  const les = await prom.waitFor(async () => {
    const res = await prom.query('http_request_duration_seconds_bucket')
    const byRoute: Record<string, string[]> = {}
    for (const s of res.result as Array<{ metric: Record<string, string> }>) (byRoute[s.metric.route as string] ??= []).push(s.metric.le as string)
    return byRoute['/report'] !== undefined && byRoute['/item'] !== undefined ? byRoute : null
  }, { timeoutMs: 30_000, description: 'both routes scraped' })
  t.same([...(les['/report'] ?? [])].sort(), ['+Inf', '1', '30', '5'], 'Prometheus ingested the route\'s own le set')
  t.equal(les['/item']?.length, 15, 'the other route keeps the default 14 buckets + Inf')
  const up = (await prom.targets()).activeTargets[0]
  t.equal(up?.health, 'up', `scrape healthy (${up?.lastError ?? ''})`)
  const p50 = await prom.query('histogram_quantile(0.5, sum by (le, route) (http_request_duration_seconds_bucket))')
  const routes = (p50.result as Array<{ metric: { route: string }, value: [number, string] }>).map((s) => [s.metric.route, Number(s.value[1])] as const)
  t.same(routes.map(([r]) => r).sort(), ['/item', '/report'], 'a quantile per route')
  for (const [route, v] of routes) t.ok(Number.isFinite(v) && v > 0, `p50 of ${route} is finite (${v})`)
})
