import t from 'tap'
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace'
import Fastify from 'fastify'
import { startTracing, o11yTracing, addSpanAttributes, withSpan } from '../src/index'
import { byName, parentId, servers } from './helpers'
import { testDatabase } from './db'

// Tracing (and the pg instrumentation) must be in place before pg is loaded.
const exporter = new InMemorySpanExporter()
const handle = startTracing({ spanProcessors: [new SimpleSpanProcessor({ exporter })], fastify: false, exporter: 'none' })
const pg = require('pg') as typeof import('pg')
let pool: import('pg').Pool
let queryName = ''

t.before(async () => {
  const db = await testDatabase(t)
  pool = new pg.Pool({ connectionString: db.url, max: db.poolMax })
  queryName = `pg.query:SELECT ${db.database}`
  // SimpleSpanProcessor holds spans back until the detected resource attributes settle (slow on a
  // loaded machine); after one flushed span every later span is exported when it ends.
  await withSpan('settle', () => {})
  await handle.forceFlush()
  t.teardown(async () => {
    await pool.end()
    await db.stop()
    await handle.shutdown()
  })
})
t.beforeEach(() => exporter.reset())

async function buildApp (opts: Parameters<typeof o11yTracing>[1] = {}) {
  const app = Fastify()
  await app.register(o11yTracing, opts)
  app.get('/api/orders/:id', async function getOrder (request) {
    const { id } = request.params as { id: string }
    const res = await pool.query('SELECT $1::int AS id, $2::text AS secret', [Number(id), 'hunter2'])
    return res.rows[0]
  })
  app.get('/boom', async function boom () { throw new Error('kaboom') })
  app.get('/teapot', async function teapot (_req, reply) { return reply.code(418).send('short and stout') })
  app.get('/quiet', { config: { tracing: false } }, async function quiet () {
    await pool.query('SELECT 1')
    return 'ok'
  })
  app.get('/metrics', async () => 'metrics')
  app.get('/api/health', async function health () {
    await pool.query('SELECT 1')
    return { ok: true }
  })
  return app
}

t.test('one request: SERVER, Fastify request/handler and pg spans in one trace', async (t) => {
  const app = await buildApp({ lifecycleSpans: true })
  t.teardown(() => app.close())
  const res = await app.inject({ url: '/api/orders/42', headers: { 'user-agent': 'tap-test', host: 'orders.local:8080' } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { id: 42, secret: 'hunter2' })

  const spans = exporter.getFinishedSpans()
  const server = byName(spans, 'GET /api/orders/:id')
  t.equal(server.kind, SpanKind.SERVER)
  t.equal(parentId(server), undefined, 'the SERVER span is the root')
  t.equal(servers(spans).length, 1, 'exactly one SERVER span')
  t.match(server.attributes, {
    'http.request.method': 'GET',
    'url.path': '/api/orders/42',
    'http.route': '/api/orders/:id',
    'http.response.status_code': 200,
    'server.address': 'orders.local',
    'server.port': 8080,
    'user_agent.original': 'tap-test',
    'url.scheme': 'http',
    'http.request.id': String
  })
  t.equal(server.status.code, SpanStatusCode.UNSET)

  const request = byName(spans, 'request')
  t.equal(request.kind, SpanKind.INTERNAL, '@fastify/otel request span is INTERNAL under our SERVER span')
  t.equal(parentId(request), server.spanContext().spanId)
  const handler = byName(spans, 'handler - getOrder')
  t.equal(parentId(handler), request.spanContext().spanId)
  const query = byName(spans, queryName)
  t.equal(query.kind, SpanKind.CLIENT)
  t.equal(parentId(query), handler.spanContext().spanId)
  t.equal(query.attributes['db.query.text'], 'SELECT $1::int AS id, $2::text AS secret', 'statement with placeholders')
  t.notOk(JSON.stringify(query.attributes).includes('hunter2'), 'no parameter values on the span')
  for (const span of spans) t.equal(span.spanContext().traceId, server.spanContext().traceId, `${span.name} is in the trace`)
})

t.test('pool connects are traced: pg-pool.connect and pg.connect in the request\'s trace', async (t) => {
  // A pool of its own, so this request has to open a connection.
  const db = await testDatabase(t)
  const own = new pg.Pool({ connectionString: db.url, max: 1 })
  t.teardown(async () => {
    await own.end()
    await db.stop()
  })
  const app = Fastify()
  await app.register(o11yTracing, { lifecycleSpans: false })
  app.get('/connect', async function connect () {
    const client = await own.connect()
    try {
      return (await client.query('SELECT 1 AS one')).rows[0]
    } finally {
      client.release()
    }
  })
  t.teardown(() => app.close())
  t.same((await app.inject('/connect')).json(), { one: 1 })
  const spans = exporter.getFinishedSpans()
  const server = byName(spans, 'GET /connect')
  const poolConnect = byName(spans, 'pg-pool.connect')
  const connect = byName(spans, 'pg.connect')
  const query = byName(spans, queryName)
  t.equal(poolConnect.kind, SpanKind.CLIENT)
  t.equal(parentId(poolConnect), server.spanContext().spanId, 'pool connect under the SERVER span')
  t.equal(parentId(connect), poolConnect.spanContext().spanId, 'the new connection under the pool connect')
  t.equal(parentId(query), server.spanContext().spanId)
  for (const span of [poolConnect, connect, query]) t.equal(span.spanContext().traceId, server.spanContext().traceId, `${span.name} in the trace`)
})

t.test('http.request.id is the Fastify request id', async (t) => {
  const app = Fastify({ requestIdHeader: 'x-request-id' })
  await app.register(o11yTracing, { lifecycleSpans: false })
  let seen: string | undefined
  app.get('/rid', async function rid (request) { seen = request.id; return 'ok' })
  t.teardown(() => app.close())
  await app.inject({ url: '/rid', headers: { 'x-request-id': 'order-req-42' } })
  t.equal(seen, 'order-req-42')
  t.equal(byName(exporter.getFinishedSpans(), 'GET /rid').attributes['http.request.id'], 'order-req-42')
})

t.test('the request span is active in every hook, the handler and onResponse', async (t) => {
  const app = Fastify()
  await app.register(o11yTracing, { lifecycleSpans: false })
  const seen: Record<string, string | undefined> = {}
  const record = (name: string) => { seen[name] = trace.getActiveSpan()?.spanContext().spanId }
  for (const hook of ['onRequest', 'preParsing', 'preValidation', 'preHandler', 'preSerialization', 'onSend', 'onResponse'] as const) {
    app.addHook(hook, async function activeSpanProbe () { record(hook) })
  }
  app.post('/things', async function create () {
    record('handler')
    await new Promise((resolve) => setTimeout(resolve, 5))
    record('handler after await')
    return { ok: true }
  })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/things', payload: { a: 1 } })
  t.equal(res.statusCode, 200)
  const server = byName(exporter.getFinishedSpans(), 'POST /things')
  const id = server.spanContext().spanId
  t.same(seen, {
    onRequest: id, preParsing: id, preValidation: id, preHandler: id, handler: id,
    'handler after await': id, preSerialization: id, onSend: id, onResponse: id
  })
})

t.test('with lifecycle spans: hooks see a span of the request\'s trace, onResponse the SERVER span', async (t) => {
  const app = Fastify()
  await app.register(o11yTracing, { lifecycleSpans: true })
  const seen: Record<string, { traceId?: string, spanId?: string }> = {}
  const record = (name: string) => { seen[name] = { traceId: trace.getActiveSpan()?.spanContext().traceId, spanId: trace.getActiveSpan()?.spanContext().spanId } }
  for (const hook of ['onRequest', 'preHandler', 'onSend', 'onResponse'] as const) {
    app.addHook(hook, async function probe () { record(hook) })
  }
  app.get('/life', async function life () { record('handler'); return 'ok' })
  t.teardown(() => app.close())
  await app.inject('/life')
  const spans = exporter.getFinishedSpans()
  const server = byName(spans, 'GET /life')
  const ids = new Set(spans.map((s) => s.spanContext().spanId))
  for (const [name, ctx] of Object.entries(seen)) {
    t.equal(ctx.traceId, server.spanContext().traceId, `${name}: same trace`)
    t.ok(ids.has(ctx.spanId!), `${name}: one of the request's spans`)
  }
  t.equal(seen.onResponse?.spanId, server.spanContext().spanId, 'onResponse: the SERVER span')
  t.equal(seen.handler?.spanId, byName(spans, 'handler - life').spanContext().spanId, 'handler: its handler span')
  t.same(Object.keys(seen).sort(), ['handler', 'onRequest', 'onResponse', 'onSend', 'preHandler'])
})

t.test('also over a real socket, onResponse sees the span', async (t) => {
  const app = Fastify()
  await app.register(o11yTracing)
  let inOnResponse: string | undefined
  app.addHook('onResponse', function probe (_req, _reply, done) {
    inOnResponse = trace.getActiveSpan()?.spanContext().spanId
    done()
  })
  app.get('/x', async () => 'x')
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const res = await fetch(`http://127.0.0.1:${(app.server.address() as { port: number }).port}/x`)
  t.equal(await res.text(), 'x')
  await new Promise((resolve) => setTimeout(resolve, 20))
  const server = byName(exporter.getFinishedSpans(), 'GET /x')
  t.equal(inOnResponse, server.spanContext().spanId)
})

t.test('a 5xx records the exception and sets ERROR; a 4xx does not', async (t) => {
  const app = await buildApp()
  t.teardown(() => app.close())
  t.equal((await app.inject('/boom')).statusCode, 500)
  const boom = byName(exporter.getFinishedSpans(), 'GET /boom')
  t.equal(boom.status.code, SpanStatusCode.ERROR)
  t.equal(boom.status.message, 'kaboom')
  t.equal(boom.attributes['http.response.status_code'], 500)
  t.equal(boom.attributes['error.type'], 'Error')
  const exception = boom.events.find((e) => e.name === 'exception')
  t.equal(exception?.attributes?.['exception.message'], 'kaboom')
  t.equal(servers(exporter.getFinishedSpans()).length, 1)

  exporter.reset()
  t.equal((await app.inject('/teapot')).statusCode, 418)
  const teapot = byName(exporter.getFinishedSpans(), 'GET /teapot')
  t.equal(teapot.status.code, SpanStatusCode.UNSET)
  t.equal(teapot.attributes['http.response.status_code'], 418)
})

t.test('a 5xx sent without an exception is still an ERROR', async (t) => {
  const app = Fastify()
  await app.register(o11yTracing)
  app.get('/unavailable', async (_req, reply) => reply.code(503).send('later'))
  t.teardown(() => app.close())
  t.equal((await app.inject('/unavailable')).statusCode, 503)
  const span = byName(exporter.getFinishedSpans(), 'GET /unavailable')
  t.equal(span.status.code, SpanStatusCode.ERROR)
  t.equal(span.attributes['error.type'], '503')
})

t.test('opted-out and ignored routes produce no spans at all, pg included', async (t) => {
  const app = await buildApp()
  t.teardown(() => app.close())
  for (const url of ['/quiet', '/metrics', '/api/health']) {
    t.equal((await app.inject(url)).statusCode, 200, url)
  }
  t.same(exporter.getFinishedSpans().map((s) => s.name), [])
})

t.test('the ignore list is configurable (array or function)', async (t) => {
  const app = await buildApp({ ignoreRoutes: ['/teapot'] })
  t.teardown(() => app.close())
  await app.inject('/teapot')
  await app.inject('/metrics')
  t.same(servers(exporter.getFinishedSpans()).map((s) => s.name), ['GET /metrics'])

  exporter.reset()
  const fnApp = await buildApp({ ignoreRoutes: (route) => route.startsWith('/api/orders') })
  t.teardown(() => fnApp.close())
  await fnApp.inject('/api/orders/1')
  await fnApp.inject('/boom')
  t.same(servers(exporter.getFinishedSpans()).map((s) => s.name), ['GET /boom'])
})

t.test('a throwing ignoreRoutes function keeps the route traced and warns once', async (t) => {
  const warnings: string[] = []
  const onWarning = (w: Error & { code?: string }): void => { warnings.push(w.code ?? '') }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const app = await buildApp({ ignoreRoutes: () => { throw new Error('broken predicate') } })
  t.teardown(() => app.close())
  t.equal((await app.inject('/teapot')).statusCode, 418)
  t.equal((await app.inject('/boom')).statusCode, 500)
  t.same(servers(exporter.getFinishedSpans()).map((s) => s.name).sort(), ['GET /boom', 'GET /teapot'])
  await new Promise((resolve) => setImmediate(resolve))
  t.same(warnings, ['O11Y_ERR_TRACING_IGNORE_ROUTES_FAILED'])
})

t.test('an unmatched route is a SERVER span named after the method only', async (t) => {
  const app = await buildApp()
  t.teardown(() => app.close())
  t.equal((await app.inject('/nope?x=1')).statusCode, 404)
  const spans = servers(exporter.getFinishedSpans())
  t.equal(spans.length, 1)
  t.equal(spans[0]!.name, 'GET')
  t.equal(spans[0]!.attributes['http.route'], undefined)
  t.equal(spans[0]!.attributes['url.path'], '/nope')
  t.equal(spans[0]!.attributes['http.response.status_code'], 404)
})

t.test('hook spans are off by default and can be switched on', async (t) => {
  const make = async (hookSpans: boolean) => {
    const app = Fastify()
    await app.register(o11yTracing, { hookSpans })
    app.addHook('preHandler', async function checkAuth () {})
    app.get('/h', async function h () { return 'h' })
    return app
  }
  const off = await make(false)
  t.teardown(() => off.close())
  await off.inject('/h')
  t.notOk(exporter.getFinishedSpans().some((s) => s.name.startsWith('preHandler')))
  exporter.reset()
  const on = await make(true)
  t.teardown(() => on.close())
  await on.inject('/h')
  const hook = byName(exporter.getFinishedSpans(), 'preHandler - checkAuth')
  t.equal(parentId(hook), byName(exporter.getFinishedSpans(), 'request').spanContext().spanId)
})

t.test('lifecycle spans can be turned off: SERVER span and pg only', async (t) => {
  const app = await buildApp({ lifecycleSpans: false })
  t.teardown(() => app.close())
  await app.inject('/api/orders/7')
  const spans = exporter.getFinishedSpans()
  const server = byName(spans, 'GET /api/orders/:id')
  t.notOk(spans.some((s) => s.name === 'request' || s.name.startsWith('handler')))
  t.equal(parentId(byName(spans, queryName)), server.spanContext().spanId)
})

t.test('addSpanAttributes in a handler; long values are cut to the length limit', async (t) => {
  const app = Fastify()
  await app.register(o11yTracing, { lifecycleSpans: false })
  app.get('/attrs', async function attrs () {
    addSpanAttributes({ 'order.note': 'x'.repeat(10_000), 'order.items': 3 })
    return 'ok'
  })
  t.teardown(() => app.close())
  await app.inject('/attrs')
  const span = byName(exporter.getFinishedSpans(), 'GET /attrs')
  t.equal((span.attributes['order.note'] as string).length, 2048)
  t.equal(span.attributes['order.items'], 3)
})

t.test('many Fastify instances in one process, registered twice is harmless', async (t) => {
  const apps = await Promise.all(Array.from({ length: 5 }, async (_, i) => {
    const app = Fastify()
    await app.register(o11yTracing)
    await app.register(o11yTracing)
    app.get(`/app${i}`, async () => i)
    return app
  }))
  t.teardown(() => Promise.all(apps.map((a) => a.close())))
  for (const [i, app] of apps.entries()) t.equal((await app.inject(`/app${i}`)).body, String(i))
  t.same(servers(exporter.getFinishedSpans()).map((s) => s.name).sort(), ['GET /app0', 'GET /app1', 'GET /app2', 'GET /app3', 'GET /app4'])
})

t.test('unknown methods are _OTHER', async (t) => {
  const app = Fastify()
  app.addHttpMethod('PROPFIND')
  await app.register(o11yTracing)
  app.route({ method: 'PROPFIND', url: '/dav', handler: async () => 'dav' })
  t.teardown(() => app.close())
  await app.inject({ method: 'PROPFIND', url: '/dav' })
  const span = servers(exporter.getFinishedSpans())[0]!
  t.equal(span.name, '_OTHER /dav')
  t.equal(span.attributes['http.request.method'], '_OTHER')
  t.equal(span.attributes['http.request.method_original'], 'PROPFIND')
})

t.test('invalid plugin options throw a coded error at registration', async (t) => {
  for (const opts of [{ ignoreRoutes: 'metrics' }, { hookSpans: 'yes' }, { lifecycleSpans: 1 }]) {
    const app = Fastify()
    app.register(o11yTracing, opts as any)
    await t.rejects(async () => { await app.ready() }, { code: 'O11Y_ERR_TRACING_INVALID_OPTION' })
    await app.close()
  }
})

t.test('serverSpanAttributes: a bad value is a coded error naming it', async (t) => {
  for (const [opts, named] of [
    [{ serverSpanAttributes: 'userAgent' }, 'serverSpanAttributes'],
    [{ serverSpanAttributes: ['userAgent', 'cookies'] }, 'serverSpanAttributes\\[1\\]'],
    [{ serverSpanAttributes: [42] }, 'serverSpanAttributes\\[0\\]']
  ] as const) {
    const app = Fastify()
    app.register(o11yTracing, opts as any)
    await t.rejects(async () => { await app.ready() }, { code: 'O11Y_ERR_TRACING_INVALID_OPTION', message: new RegExp(`option "${named}"`) }, JSON.stringify(opts))
    await app.close()
  }
  t.throws(() => startTracing({ fastify: { serverSpanAttributes: ['userAgnet'] } } as never), { code: 'O11Y_ERR_TRACING_INVALID_OPTION', message: /fastify\.serverSpanAttributes\[0\].*one of serverAddress, clientAddress, clientPort, userAgent, protocolVersion, requestId/ })
})

t.test('serverSpanAttributes: each optional group is on the exported SERVER span exactly when asked for', async (t) => {
  const optional: Record<string, readonly string[]> = {
    serverAddress: ['server.address', 'server.port'],
    clientAddress: ['client.address'],
    clientPort: ['client.port'],
    userAgent: ['user_agent.original'],
    protocolVersion: ['network.protocol.version'],
    requestId: ['http.request.id']
  }
  const required = ['http.request.method', 'url.path', 'url.scheme', 'http.route', 'http.response.status_code']
  const settings: Array<[string, readonly string[] | undefined, readonly string[]]> = [
    ['default', undefined, ['serverAddress', 'clientAddress', 'userAgent', 'protocolVersion', 'requestId']],
    ['none', [], []],
    ...Object.keys(optional).map((group): [string, readonly string[], readonly string[]] => [group, [group], [group]]),
    ['all', Object.keys(optional), Object.keys(optional)]
  ]
  for (const [label, groups, expected] of settings) {
    exporter.reset()
    const app = Fastify()
    await app.register(o11yTracing, groups === undefined ? {} : { serverSpanAttributes: groups as never })
    app.get('/attrs/:id', async () => 'ok')
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as { port: number }
    // A real socket, so client.address and client.port have values.
    const res = await fetch(`http://127.0.0.1:${port}/attrs/1`, { headers: { 'user-agent': 'attrs-test' } })
    t.equal(res.status, 200)
    await app.close()
    const server = byName(exporter.getFinishedSpans(), 'GET /attrs/:id')
    for (const name of required) t.ok(name in server.attributes, `${label}: required ${name} present`)
    for (const [group, names] of Object.entries(optional)) {
      for (const name of names) t.equal(name in server.attributes, expected.includes(group), `${label}: ${name} ${expected.includes(group) ? 'present' : 'absent'}`)
    }
    if (expected.includes('userAgent')) t.equal(server.attributes['user_agent.original'], 'attrs-test')
    if (expected.includes('serverAddress')) t.match(server.attributes, { 'server.address': '127.0.0.1', 'server.port': port })
    if (expected.includes('clientAddress')) t.equal(server.attributes['client.address'], '127.0.0.1')
    if (expected.includes('clientPort')) t.type(server.attributes['client.port'], 'number')
  }
})

t.test('outside a request nothing is active', async (t) => {
  t.equal(trace.getSpan(context.active()), undefined)
})

const VALID_TRACE = '0af7651916cd43dd8448eb211c80319c'
const VALID_PARENT = 'b7ad6b7169203331'

t.test('a valid incoming traceparent continues the caller\'s trace', async (t) => {
  const app = await buildApp()
  t.teardown(() => app.close())
  await app.inject({ url: '/teapot', headers: { traceparent: `00-${VALID_TRACE}-${VALID_PARENT}-01`, tracestate: 'vendor=abc' } })
  const span = byName(exporter.getFinishedSpans(), 'GET /teapot')
  t.equal(span.spanContext().traceId, VALID_TRACE)
  t.equal(parentId(span), VALID_PARENT)
  t.equal(span.parentSpanContext?.isRemote, true)
  t.equal(span.spanContext().traceState?.get('vendor'), 'abc')
})

t.test('malformed traceparent headers are ignored and start a new root trace', async (t) => {
  const app = await buildApp()
  t.teardown(() => app.close())
  const cases: Record<string, string> = {
    'bad version ff': `ff-${VALID_TRACE}-${VALID_PARENT}-01`,
    'all-zero trace id': `00-${'0'.repeat(32)}-${VALID_PARENT}-01`,
    'all-zero parent id': `00-${VALID_TRACE}-${'0'.repeat(16)}-01`,
    'trace id too short': `00-${VALID_TRACE.slice(1)}-${VALID_PARENT}-01`,
    'parent id too long': `00-${VALID_TRACE}-${VALID_PARENT}0-01`,
    'version 00 with extra fields': `00-${VALID_TRACE}-${VALID_PARENT}-01-extra`,
    'uppercase hex': `00-${VALID_TRACE.toUpperCase()}-${VALID_PARENT}-01`,
    '8 KB header': `00-${VALID_TRACE}-${VALID_PARENT}-01` + '-'.repeat(8192),
    '8 KB header of a future version': `cc-${VALID_TRACE}-${VALID_PARENT}-01-` + 'a'.repeat(8192),
    garbage: 'not a traceparent'
  }
  for (const [name, header] of Object.entries(cases)) {
    exporter.reset()
    const res = await app.inject({ url: '/teapot', headers: { traceparent: header } })
    t.equal(res.statusCode, 418, `${name}: the request is served`)
    const span = byName(exporter.getFinishedSpans(), 'GET /teapot')
    t.equal(parentId(span), undefined, `${name}: new root span`)
    t.not(span.spanContext().traceId, VALID_TRACE, `${name}: new trace id`)
    t.match(span.spanContext().traceId, /^[0-9a-f]{32}$/)
  }
})

t.test('outgoing fetch and http calls carry traceparent of their CLIENT span', async (t) => {
  const http = require('node:http') as typeof import('node:http')
  const seen: Array<string | undefined> = []
  const downstream = http.createServer((req, res) => {
    seen.push(req.headers.traceparent as string | undefined)
    res.end('pong')
  })
  await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => downstream.close(() => resolve())))
  const target = `http://127.0.0.1:${(downstream.address() as { port: number }).port}/ping`

  const app = Fastify()
  await app.register(o11yTracing, { lifecycleSpans: false })
  app.get('/fanout', async function fanout () {
    const viaFetch = await (await fetch(target)).text()
    const viaHttp = await new Promise<string>((resolve, reject) => {
      http.get(target, (res) => {
        let body = ''
        res.on('data', (c: Buffer) => { body += c.toString() })
        res.on('end', () => resolve(body))
      }).on('error', reject)
    })
    return [viaFetch, viaHttp]
  })
  t.teardown(() => app.close())
  const res = await app.inject('/fanout')
  t.same(res.json(), ['pong', 'pong'])

  const spans = exporter.getFinishedSpans()
  const server = byName(spans, 'GET /fanout')
  const clients = spans.filter((s) => s.kind === SpanKind.CLIENT)
  t.equal(clients.length, 2, 'one CLIENT span for fetch, one for http')
  t.equal(seen.length, 2)
  for (const [i, header] of seen.entries()) {
    t.match(header, new RegExp(`^00-${server.spanContext().traceId}-[0-9a-f]{16}-01$`), `call ${i} carries the trace`)
    const parent = header!.split('-')[2]
    const client = clients.find((c) => c.spanContext().spanId === parent)
    t.ok(client, `call ${i}: the parent id is a CLIENT span`)
    t.equal(parentId(client!), server.spanContext().spanId)
  }
})

t.test('a client that goes away still ends the SERVER span, marked aborted', async (t) => {
  const net = require('node:net') as typeof import('node:net')
  const app = Fastify()
  await app.register(o11yTracing, { lifecycleSpans: false })
  let release: () => void = () => {}
  let arrived: () => void = () => {}
  const inHandler = new Promise<void>((resolve) => { arrived = resolve })
  app.get('/slow', async function slow () {
    arrived()
    await new Promise<void>((resolve) => { release = resolve })
    return 'late'
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const socket = net.connect((app.server.address() as { port: number }).port, '127.0.0.1')
  socket.on('error', () => {})
  socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n')
  await inHandler
  socket.destroy()
  for (let i = 0; i < 100 && exporter.getFinishedSpans().length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  release()
  await new Promise((resolve) => setTimeout(resolve, 50))
  const span = byName(exporter.getFinishedSpans(), 'GET /slow')
  t.equal(span.attributes['error.type'], 'aborted')
  t.equal(exporter.getFinishedSpans().length, 1, 'ended once')
})
