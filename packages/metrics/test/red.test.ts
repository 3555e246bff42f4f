import { randomUUID } from 'node:crypto'
import { connect } from 'node:net'
import Fastify from 'fastify'
import t from 'tap'
import { exceptionName, o11yMetrics } from '../src/index'
import { buildApp, find, logCapture, scrape } from './fixtures/helpers'

t.test('records RED metrics with the route template, method and status code', async (t) => {
  const app = await buildApp(t)
  app.get('/api/orders/:id', async (req) => ({ id: (req.params as { id: string }).id }))
  app.post('/api/orders', async (_req, reply) => reply.code(201).send({ ok: true }))
  for (let i = 0; i < 3; i++) await app.inject(`/api/orders/${i}`)
  await app.inject({ method: 'POST', url: '/api/orders', payload: {} })

  const { samples, contentType } = await scrape(app)
  t.equal(contentType, 'text/plain; version=0.0.4; charset=utf-8')
  t.same(find(samples, 'http_requests_total').map((s) => [s.labels, s.value]), [
    [{ method: 'GET', route: '/api/orders/:id', status_code: '200' }, 3],
    [{ method: 'POST', route: '/api/orders', status_code: '201' }, 1]
  ])
  const count = find(samples, 'http_request_duration_seconds_count', { route: '/api/orders/:id' })
  t.equal(count.length, 1)
  t.equal(count[0]?.value, 3)
  const buckets = find(samples, 'http_request_duration_seconds_bucket', { route: '/api/orders/:id' })
  t.same(buckets.map((b) => b.labels.le), ['0.005', '0.01', '0.025', '0.05', '0.075', '0.1', '0.25', '0.5', '0.75', '1', '2.5', '5', '7.5', '10', '+Inf'])
  t.equal(buckets[buckets.length - 1]?.value, 3)
  t.ok(buckets.every((b, i) => i === 0 || b.value >= (buckets[i - 1] as { value: number }).value), 'buckets are cumulative')
  t.ok((find(samples, 'http_request_duration_seconds_sum', { route: '/api/orders/:id' })[0]?.value ?? 0) > 0)
  t.equal(find(samples, 'http_requests_in_flight')[0]?.value, 0)
})

t.test('10,000 requests to random unknown paths add exactly one __unmatched__ series', async (t) => {
  const app = await buildApp(t)
  app.get('/api/orders/:id', async () => 'ok')
  for (let i = 0; i < 10_000; i++) await app.inject(`/${randomUUID()}/wp-login.php?x=${i}`)
  const { samples } = await scrape(app)
  const series = find(samples, 'http_requests_total')
  t.same(series.map((s) => [s.labels, s.value]), [[{ method: 'GET', route: '__unmatched__', status_code: '404' }, 10_000]])
  t.equal(find(samples, 'http_request_duration_seconds_count').length, 1)
  t.notOk(samples.some((s) => (s.labels.route ?? '').includes('wp-login')), 'no raw path in any label')
})

t.test('10,000 distinct ids on /api/orders/:id give one route label value', async (t) => {
  const app = await buildApp(t)
  app.get('/api/orders/:id', async (req) => ({ id: (req.params as { id: string }).id }))
  for (let i = 0; i < 10_000; i++) await app.inject(`/api/orders/${randomUUID()}`)
  const { samples } = await scrape(app)
  const routes = new Set(samples.filter((s) => s.name.startsWith('http_request')).map((s) => s.labels.route).filter((r) => r !== undefined))
  t.same([...routes], ['/api/orders/:id'])
  t.equal(find(samples, 'http_requests_total', { route: '/api/orders/:id' })[0]?.value, 10_000)
})

t.test('unknown methods are recorded as _OTHER', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.addHttpMethod('PROPFIND')
  await app.register(o11yMetrics)
  app.route({ method: ['PROPFIND', 'GET'], url: '/dav', handler: async () => 'ok' })
  await app.inject({ method: 'PROPFIND', url: '/dav' })
  await app.inject({ method: 'GET', url: '/dav' })
  const { samples } = await scrape(app)
  t.same(find(samples, 'http_requests_total', { route: '/dav' }).map((s) => s.labels.method).sort(), ['GET', '_OTHER'])
})

t.test('past maxLabelSets new label sets go to one overflow series, counted in o11y_metrics_overflow_total', async (t) => {
  const logs = logCapture()
  const app = await buildApp(t, { maxLabelSets: 5 }, { logger: { level: 'warn', stream: logs.stream } })
  for (let i = 0; i < 10; i++) app.get(`/r${i}`, async () => 'ok')
  for (let i = 0; i < 10; i++) await app.inject(`/r${i}`)
  await app.inject('/r9')
  const { samples } = await scrape(app)
  const series = find(samples, 'http_requests_total')
  t.equal(series.length, 6, '5 real series and one overflow series')
  t.same(series.slice(0, 5).map((s) => s.labels.route), ['/r0', '/r1', '/r2', '/r3', '/r4'])
  const overflow = find(samples, 'http_requests_total', { route: '__overflow__' })
  t.same(overflow.map((s) => [s.labels, s.value]), [[{ method: '__overflow__', route: '__overflow__', status_code: '__overflow__' }, 6]])
  t.equal(find(samples, 'http_request_duration_seconds_count', { route: '__overflow__' })[0]?.value, 6)
  t.same(find(samples, 'o11y_metrics_overflow_total').map((s) => [s.labels, s.value]), [[{ metric: 'http_requests_total' }, 6]])
  t.equal(logs.lines.filter((l) => /reached maxLabelSets/.test(l.msg)).length, 1, 'the overflow is logged once')
})

t.test('the default cap is 2000 label sets per metric', async (t) => {
  const app = await buildApp(t, { runtimeMetrics: false, labelNames: ['user'], labels: (req) => ({ user: String((req.query as { u?: string }).u) }) })
  app.get('/a', async () => 'ok')
  for (let i = 0; i < 2010; i++) await app.inject(`/a?u=${i}`)
  const { samples } = await scrape(app)
  const series = find(samples, 'http_requests_total')
  t.equal(series.length, 2001, '2000 series and the overflow series')
  t.equal(find(samples, 'http_requests_total', { route: '__overflow__' })[0]?.value, 10)
  t.equal(find(samples, 'o11y_metrics_overflow_total', { metric: 'http_requests_total' })[0]?.value, 10)
})

t.test('exceptions are counted by class name or code; 5xx statuses are kept', async (t) => {
  const app = await buildApp(t)
  class PaymentDeclined extends Error {}
  app.get('/type', async () => { throw new TypeError('bad') })
  app.get('/custom', async () => { throw new PaymentDeclined('no') })
  app.get('/coded', async () => { throw Object.assign(new Error('dup'), { code: '23505' }) })
  app.post('/validated', { schema: { body: { type: 'object', required: ['x'] } } }, async () => 'ok')
  await app.inject('/type')
  await app.inject('/custom')
  await app.inject('/custom')
  await app.inject('/coded')
  await app.inject({ method: 'POST', url: '/validated', payload: {} })
  const { samples } = await scrape(app)
  t.same(find(samples, 'http_requests_exceptions_total').map((s) => [s.labels.route, s.labels.exception, s.value]), [
    ['/type', 'TypeError', 1],
    ['/custom', 'PaymentDeclined', 2],
    ['/coded', '23505', 1],
    ['/validated', 'FST_ERR_VALIDATION', 1]
  ])
  t.equal(find(samples, 'http_requests_total', { route: '/custom', status_code: '500' })[0]?.value, 2)
  t.equal(find(samples, 'http_requests_total', { route: '/validated', status_code: '400' })[0]?.value, 1)
})

t.test('in-flight gauge counts requests being handled', async (t) => {
  const app = await buildApp(t)
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  let entered: () => void = () => {}
  const started = new Promise<void>((resolve) => { entered = resolve })
  app.get('/slow', async () => { entered(); await gate; return 'ok' })
  const pending = app.inject('/slow')
  await started
  const during = await scrape(app)
  t.equal(find(during.samples, 'http_requests_in_flight')[0]?.value, 1)
  release()
  await pending
  const after = await scrape(app)
  t.equal(find(after.samples, 'http_requests_in_flight')[0]?.value, 0)
})

t.test('a route opts out with config.metrics = false; /metrics and health routes are left out by default', async (t) => {
  const app = await buildApp(t)
  app.get('/internal', { config: { metrics: false } }, async () => 'ok')
  app.get('/health', async () => 'ok')
  app.get('/api/health', async () => 'ok')
  app.get('/api/ready', async () => 'ok')
  app.get('/counted', async () => 'ok')
  for (const url of ['/internal', '/health', '/api/health', '/api/ready', '/counted', '/metrics']) await app.inject(url)
  const { samples } = await scrape(app)
  t.same(find(samples, 'http_requests_total').map((s) => s.labels.route), ['/counted'])
})

t.test('ignoreRoutes replaces the default list (strings and RegExps)', async (t) => {
  const app = await buildApp(t, { ignoreRoutes: ['/skip', /^\/admin\//] })
  app.get('/skip', async () => 'ok')
  app.get('/admin/:x', async () => 'ok')
  app.get('/health', async () => 'ok')
  for (const url of ['/skip', '/admin/1', '/health', '/metrics']) await app.inject(url)
  const { samples } = await scrape(app)
  t.same(find(samples, 'http_requests_total').map((s) => s.labels.route).sort(), ['/health', '/metrics'])
})

t.test('excludeRoutes still works as a deprecated alias of ignoreRoutes and warns once with a code', async (t) => {
  const warnings: Error[] = []
  const onWarning = (w: Error): void => { warnings.push(w) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const app = await buildApp(t, { excludeRoutes: ['/skip'] })
  await buildApp(t, { excludeRoutes: ['/skip'] })
  app.get('/skip', async () => 'ok')
  app.get('/kept', async () => 'ok')
  await app.inject('/skip')
  await app.inject('/kept')
  await new Promise((r) => setImmediate(r))
  t.same(find((await scrape(app)).samples, 'http_requests_total').map((s) => s.labels.route).sort(), ['/kept'])
  const ours = warnings.filter((w) => (w as Error & { code?: string }).code === 'O11Y_ERR_METRICS_DEPRECATED_OPTION')
  t.equal(ours.length, 1, 'warned once for two registrations')
  t.equal(ours[0]?.name, 'DeprecationWarning')
  t.match(ours[0]?.message, /excludeRoutes.*ignoreRoutes/)
})

t.test('ignoreRoutes as a function decides per route and method, once, in onRoute', async (t) => {
  const calls: string[] = []
  const app = await buildApp(t, {
    ignoreRoutes: (route, method) => {
      calls.push(`${method} ${route}`)
      return route.startsWith('/internal') || (route === '/mixed' && method === 'POST')
    }
  })
  app.get('/internal/x', async () => 'ok')
  app.route({ method: ['GET', 'POST'], url: '/mixed', handler: async () => 'ok' })
  app.get('/kept', async () => 'ok')
  const before = calls.length
  for (let i = 0; i < 3; i++) {
    await app.inject('/internal/x')
    await app.inject('/mixed')
    await app.inject({ method: 'POST', url: '/mixed' })
    await app.inject('/kept')
  }
  t.equal(calls.length, before, 'never called while requests are handled')
  t.ok(calls.includes('GET /kept') && calls.includes('POST /mixed'))
  const { samples } = await scrape(app)
  t.same(find(samples, 'http_requests_total').map((s) => [s.labels.method, s.labels.route, s.value]), [
    ['GET', '/mixed', 3],
    ['GET', '/kept', 3]
  ], 'POST /mixed and /internal/x are left out; the scrape itself is recorded only after its render')
})

t.test('a throwing ignoreRoutes function: the route is recorded, a coded warning is given once', async (t) => {
  const warnings: Array<Error & { code?: string }> = []
  const onWarning = (w: Error): void => { warnings.push(w) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const app = await buildApp(t, { ignoreRoutes: (route) => { if (route === '/boom') throw new Error('ignore exploded'); return false } })
  app.get('/boom', async () => 'ok')
  t.equal((await app.inject('/boom')).statusCode, 200)
  await new Promise((r) => setImmediate(r))
  t.equal(find((await scrape(app)).samples, 'http_requests_total', { route: '/boom' })[0]?.value, 1)
  const ours = warnings.filter((w) => w.code === 'O11Y_ERR_METRICS_IGNORE_ROUTES_FAILED')
  t.equal(ours.length, 1)
  t.match(ours[0]?.message, /GET \/boom.*ignore exploded.*recorded/)
})

t.test('a route registered before the plugin is not recorded (onRoute never saw it); a coded warning names it once', async (t) => {
  const logs = logCapture()
  const app = Fastify({ logger: { level: 'warn', stream: logs.stream } })
  t.teardown(() => app.close())
  app.get('/early/:id', async () => 'ok')
  await app.register(o11yMetrics)
  app.get('/late', async () => 'ok')
  t.equal((await app.inject('/early/1')).statusCode, 200)
  t.equal((await app.inject('/early/2')).statusCode, 200)
  await app.inject('/late')
  const { samples } = await scrape(app)
  t.same(find(samples, 'http_requests_total').map((s) => [s.labels.route, s.value]), [['/late', 1]])
  const lines = logs.lines.filter((l) => l.code === 'O11Y_ERR_METRICS_ROUTE_NOT_SEEN')
  t.equal(lines.length, 1, 'once per route')
  t.match(lines[0], { route: '/early/:id', msg: /registered before the plugin/ })
})

t.test('custom labels: declared names, global and per-route functions', async (t) => {
  const app = await buildApp(t, { labelNames: ['tenant'], labels: (req) => ({ tenant: String(req.headers['x-tenant'] ?? 'none') }) })
  app.get('/a', async () => 'ok')
  app.get('/b', { config: { metrics: { labels: () => ({ tenant: 'fixed' }) } } }, async () => 'ok')
  await app.inject({ url: '/a', headers: { 'x-tenant': 'acme' } })
  await app.inject({ url: '/a', headers: { 'x-tenant': 'acme' } })
  await app.inject({ url: '/a', headers: { 'x-tenant': 'globex' } })
  await app.inject('/b')
  await app.inject('/nope')
  const { samples } = await scrape(app)
  t.same(find(samples, 'http_requests_total').map((s) => [s.labels.route, s.labels.tenant, s.value]), [
    ['/a', 'acme', 2],
    ['/a', 'globex', 1],
    ['/b', 'fixed', 1],
    ['__unmatched__', 'none', 1]
  ])
})

t.test('custom label values past the cap go to the overflow series without growing memory', async (t) => {
  const app = await buildApp(t, { maxLabelSets: 3, labelNames: ['user'], labels: (req) => ({ user: String(req.query && (req.query as { u?: string }).u) }) })
  app.get('/a', async () => 'ok')
  for (let i = 0; i < 50; i++) await app.inject(`/a?u=${i}`)
  const { samples } = await scrape(app)
  const series = find(samples, 'http_requests_total')
  t.equal(series.length, 4)
  t.same(series.map((s) => s.labels.user), ['0', '1', '2', '__overflow__'])
  t.equal(find(samples, 'http_requests_total', { route: '__overflow__' })[0]?.value, 47)
})

t.test('a throwing or bad label function never fails a request: logged once, counted', async (t) => {
  const logs = logCapture()
  const app = await buildApp(t, {
    labelNames: ['tenant'],
    labels: (req) => {
      if (req.url === '/throw') throw new Error('label function exploded')
      if (req.url === '/object') return { tenant: { nested: true } as unknown as string }
      if (req.url === '/null') return null as unknown as Record<string, string>
      return { tenant: 42 }
    }
  }, { logger: { level: 'warn', stream: logs.stream } })
  for (const url of ['/throw', '/object', '/null', '/number']) app.get(url, async () => ({ hello: url }))
  for (let i = 0; i < 3; i++) {
    const res = await app.inject('/throw')
    t.equal(res.statusCode, 200)
    t.same(res.json(), { hello: '/throw' })
  }
  t.equal((await app.inject('/object')).statusCode, 200)
  t.equal((await app.inject('/null')).statusCode, 200)
  t.equal((await app.inject('/number')).statusCode, 200)
  const { samples } = await scrape(app)
  t.equal(find(samples, 'http_requests_total', { route: '/throw' })[0]?.value, 3, 'recorded without the custom label')
  t.equal(find(samples, 'http_requests_total', { route: '/throw' })[0]?.labels.tenant, undefined)
  t.equal(find(samples, 'http_requests_total', { route: '/number' })[0]?.labels.tenant, '42')
  t.equal(find(samples, 'o11y_metrics_errors_total', { source: 'label_function' })[0]?.value, 5)
  const warnings = logs.lines.filter((l) => l.source === 'label_function')
  t.equal(warnings.length, 3, 'one log line per failing route, not per request')
  t.match(warnings[0], { key: '/throw', err: { message: 'label function exploded' } })
})

t.test("naming: 'otel' uses OpenTelemetry's stable names and labels", async (t) => {
  const app = await buildApp(t, { naming: 'otel' })
  app.get('/api/orders/:id', async () => 'ok')
  app.get('/fail', async () => { throw new RangeError('x') })
  app.get('/teapot', async (_req, reply) => reply.code(503).send('down'))
  await app.inject('/api/orders/7')
  await app.inject('/fail')
  await app.inject('/teapot')
  const { samples } = await scrape(app)
  t.same(find(samples, 'http_server_request_duration_seconds_count').map((s) => [s.labels, s.value]), [
    [{ http_request_method: 'GET', http_route: '/api/orders/:id', http_response_status_code: '200' }, 1],
    [{ http_request_method: 'GET', http_route: '/fail', http_response_status_code: '500', error_type: 'RangeError' }, 1],
    [{ http_request_method: 'GET', http_route: '/teapot', http_response_status_code: '503', error_type: '503' }, 1]
  ])
  t.equal(find(samples, 'http_server_active_requests')[0]?.value, 0)
  t.equal(find(samples, 'http_requests_total').length, 0)
  t.equal(find(samples, 'http_requests_exceptions_total').length, 0)
})

t.test('custom buckets', async (t) => {
  const app = await buildApp(t, { buckets: [0.1, 1] })
  app.get('/x', async () => 'ok')
  await app.inject('/x')
  const { samples } = await scrape(app)
  t.same(find(samples, 'http_request_duration_seconds_bucket').map((s) => [s.labels.le, s.value]), [['0.1', 1], ['1', 1], ['+Inf', 1]])
})

t.test('an invalid route config.metrics throws a coded error when the route is added', async (t) => {
  const app = await buildApp(t)
  t.throws(() => app.get('/bad', { config: { metrics: 'yes' as unknown as boolean } }, async () => 'ok'), { code: 'O11Y_ERR_METRICS_ROUTE_CONFIG' })
  t.throws(() => app.get('/bad2', { config: { metrics: { labels: 'x' as unknown as () => Record<string, string> } } }, async () => 'ok'), { code: 'O11Y_ERR_METRICS_ROUTE_CONFIG' })
})

t.test('HEAD routes exposed by Fastify are recorded under their own method', async (t) => {
  const app = await buildApp(t)
  app.get('/page', async () => 'ok')
  await app.inject({ method: 'HEAD', url: '/page' })
  const { samples } = await scrape(app)
  t.same(find(samples, 'http_requests_total').map((s) => [s.labels.method, s.labels.route]), [['HEAD', '/page']])
})

t.test('a client that hangs up mid-request leaves the in-flight gauge at 0, never negative (real socket)', async (t) => {
  const app = await buildApp(t)
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  let entered: () => void = () => {}
  const started = new Promise<void>((resolve) => { entered = resolve })
  app.get('/slow', async () => { entered(); await gate; return 'late' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const socket = connect(port, '127.0.0.1')
  socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n')
  await started
  t.equal(find((await scrape(app)).samples, 'http_requests_in_flight')[0]?.value, 1)
  socket.destroy()
  for (let i = 0; i < 100 && find((await scrape(app)).samples, 'http_requests_in_flight')[0]?.value !== 0; i++) await new Promise((r) => setTimeout(r, 10))
  t.equal(find((await scrape(app)).samples, 'http_requests_in_flight')[0]?.value, 0, 'decremented on abort')
  release()
  await new Promise((r) => setTimeout(r, 50))
  t.equal(find((await scrape(app)).samples, 'http_requests_in_flight')[0]?.value, 0, 'not decremented twice')
})

t.test('exceptionName: code, class name, name, or Error', async (t) => {
  t.equal(exceptionName(Object.assign(new Error('x'), { code: 'ECONNRESET' })), 'ECONNRESET')
  t.equal(exceptionName(new SyntaxError('x')), 'SyntaxError')
  t.equal(exceptionName({ name: 'PlainObjectError' }), 'PlainObjectError')
  t.equal(exceptionName(Object.create(null)), 'Error')
  t.equal(exceptionName('a string'), 'Error')
  t.equal(exceptionName(null), 'Error')
  t.equal(exceptionName({ code: 'X'.repeat(100) }).length, 64)
})

t.test('a thrown non-Error value is counted as Error', async (t) => {
  const app = await buildApp(t)
  app.get('/str', async () => { throw 'just a string' as unknown as Error })
  const res = await app.inject('/str')
  t.equal(res.statusCode, 500)
  t.same(find((await scrape(app)).samples, 'http_requests_exceptions_total').map((s) => s.labels.exception), ['Error'])
})

t.test('exceptions are counted when a custom error handler answers with a plain payload', async (t) => {
  const app = await buildApp(t)
  app.setErrorHandler(function handler (_err, _request, reply) {
    return reply.code(503).send({ code: 'DATABASE_UNAVAILABLE' })
  })
  app.get('/db', async () => { throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) })
  const res = await app.inject('/db')
  t.equal(res.statusCode, 503)
  t.same(res.json(), { code: 'DATABASE_UNAVAILABLE' })
  const { samples } = await scrape(app)
  t.same(find(samples, 'http_requests_exceptions_total').map((s) => [s.labels.route, s.labels.exception, s.value]), [['/db', 'ECONNREFUSED', 1]])
  t.equal(find(samples, 'http_requests_total', { route: '/db', status_code: '503' })[0]?.value, 1)
})
