import t from 'tap'
import Fastify, { LogController } from 'fastify'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { context, trace } from '@opentelemetry/api'
import type { Span } from '@opentelemetry/api'
import type { Logger } from 'pino'
import { createLogger, fastifyLoggerOptions, LOG_FIELDS, o11yLogging } from '../src/index'
import type { FastifyLoggerOptions } from '../src/index'
import { capture, hasRawControl, isCanonicalJson, readerLines, useTracing } from './helpers'
import type { Capture } from './helpers'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const REQUEST_LINE_KEYS = ['level', 'logger', 'message', 'method', 'request_id', 'response_time_ms', 'route', 'status_code', 'timestamp'].sort()

async function buildApp (t: tap.Test, options: FastifyLoggerOptions = {}): Promise<{ app: FastifyInstance, out: Capture }> {
  const out = capture()
  const app = Fastify({ ...fastifyLoggerOptions({ name: 'shop', destination: out, ...options }) })
  t.teardown(() => app.close())
  await app.register(o11yLogging)
  return { app, out }
}

function requestLines (out: Capture): Array<Record<string, any>> {
  return out.lines().filter((line) => line.message === 'request completed')
}

t.test('fastifyLoggerOptions returns server options without deprecated Fastify options', async (t) => {
  const warnings: Error[] = []
  const onWarning = (warning: Error): void => { warnings.push(warning) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const options = fastifyLoggerOptions({ destination: capture() })
  t.same(Object.keys(options).sort(), ['childLoggerFactory', 'genReqId', 'logController', 'loggerInstance', 'requestIdHeader'])
  t.ok(options.logController instanceof LogController)
  t.equal(options.logController!.requestIdLogLabel, LOG_FIELDS.requestId)
  t.equal(options.logController!.disableRequestLogging, true)
  t.equal(options.requestIdHeader, false)
  const app = Fastify(options)
  await app.ready()
  await app.close()
  await new Promise((resolve) => setImmediate(resolve))
  t.same(warnings.map((w) => (w as Error & { code?: string }).code), [], 'no FSTDEP warning')
})

t.test('one line per request, written on response, with route, method, status, time and request id', async (t) => {
  const { app, out } = await buildApp(t)
  app.get('/api/orders/:id', async (request) => ({ id: (request.params as { id: string }).id }))
  app.post('/api/orders', async (_request, reply) => reply.code(201).send({ ok: true }))

  const first = await app.inject({ url: '/api/orders/42', headers: { 'x-request-id': 'req-abc.123' } })
  const second = await app.inject({ method: 'POST', url: '/api/orders', payload: { amount: 1 } })
  t.equal(first.statusCode, 200)
  t.equal(second.statusCode, 201)

  const lines = out.lines()
  t.equal(lines.length, 2, 'exactly one line per request, no incoming/completed pair')
  const [get, post] = lines
  t.same(Object.keys(get!).sort(), REQUEST_LINE_KEYS)
  t.same([get!.level, get!.logger, get!.message], ['INFO', 'shop', 'request completed'])
  t.same([get!.route, get!.method, get!.status_code], ['/api/orders/:id', 'GET', 200])
  t.equal(get!.request_id, 'req-abc.123', 'a safe incoming x-request-id is used')
  t.equal(typeof get!.response_time_ms, 'number')
  t.ok(get!.response_time_ms >= 0)
  t.same([post!.route, post!.method, post!.status_code], ['/api/orders', 'POST', 201])
  t.match(post!.request_id, UUID, 'no header: a random UUID')
  t.equal(out.text().split('\n')[0]!.split('"request_id":').length - 1, 1, 'request_id written once')
})

t.test('unsafe or oversized incoming request ids are replaced; requestIdHeader can be renamed or turned off', async (t) => {
  const { app, out } = await buildApp(t)
  app.get('/', async () => 'ok')
  for (const id of ['a b', 'x'.repeat(129), '","level":"FATAL', 'é']) {
    await app.inject({ url: '/', headers: { 'x-request-id': id } })
  }
  for (const line of out.lines()) t.match(line.request_id, UUID)

  const custom = await buildApp(t, { requestIdHeader: 'X-Correlation-Id' })
  custom.app.get('/', async () => 'ok')
  await custom.app.inject({ url: '/', headers: { 'x-correlation-id': 'corr-1', 'x-request-id': 'ignored' } })
  t.equal(custom.out.lines()[0]!.request_id, 'corr-1')

  const off = await buildApp(t, { requestIdHeader: false })
  off.app.get('/', async () => 'ok')
  await off.app.inject({ url: '/', headers: { 'x-request-id': 'ignored' } })
  t.match(off.out.lines()[0]!.request_id, UUID)
})

t.test('lines written by handlers carry request_id; the request line comes last', async (t) => {
  const { app, out } = await buildApp(t)
  app.get('/work', async (request) => {
    request.log.info({ step: 'charge' }, 'charging')
    return 'done'
  })
  await app.inject({ url: '/work', headers: { 'x-request-id': 'r-1' } })
  const [handler, completed] = out.lines()
  t.same([handler!.message, handler!.request_id, handler!.step, handler!.logger], ['charging', 'r-1', 'charge', 'shop'])
  t.same([completed!.message, completed!.request_id], ['request completed', 'r-1'])
})

t.test('5xx at error with the error serialized; 4xx at info by default, or clientErrorLevel', async (t) => {
  const { app, out } = await buildApp(t)
  app.get('/boom', async () => { throw new Error('database unavailable') })
  app.get('/unavailable', async (_request, reply) => reply.code(503).send('later'))
  app.post('/validated', { schema: { body: { type: 'object', required: ['amount'], properties: { amount: { type: 'integer' } } } } }, async () => 'ok')
  app.get('/teapot', async (_request, reply) => reply.code(418).send())

  await app.inject({ url: '/boom' })
  await app.inject({ url: '/unavailable' })
  await app.inject({ method: 'POST', url: '/validated', payload: {} })
  await app.inject({ url: '/teapot' })
  await app.inject({ url: '/missing/thing?x=1' })

  const lines = out.lines()
  t.equal(lines.length, 5, 'one line per request, no extra error line from Fastify')
  const [boom, unavailable, invalid, teapot, missing] = lines
  t.same([boom!.level, boom!.status_code, boom!.route], ['ERROR', 500, '/boom'])
  t.same([boom!.err.type, boom!.err.message], ['Error', 'database unavailable'])
  t.match(boom!.err.stack, /database unavailable/)
  t.same([unavailable!.level, unavailable!.status_code], ['ERROR', 503])
  t.notOk('err' in unavailable!)
  t.same([invalid!.level, invalid!.status_code, invalid!.route], ['INFO', 400, '/validated'])
  t.match(invalid!.err.message, /amount/)
  t.same([teapot!.level, teapot!.status_code], ['INFO', 418])
  t.same([missing!.level, missing!.status_code, missing!.route, missing!.method], ['INFO', 404, '__unmatched__', 'GET'])

  const out2 = capture()
  const warnApp = Fastify({ ...fastifyLoggerOptions({ destination: out2 }) })
  t.teardown(() => warnApp.close())
  await warnApp.register(o11yLogging, { clientErrorLevel: 'warn' })
  warnApp.get('/', async (_request, reply) => reply.code(409).send())
  await warnApp.inject({ url: '/' })
  await warnApp.inject({ url: '/nowhere' })
  t.same(out2.lines().map((l) => [l.level, l.status_code, l.route]), [['WARN', 409, '/'], ['WARN', 404, '__unmatched__']])
})

t.test('a custom not-found handler and prefixed routes report templates', async (t) => {
  const { app, out } = await buildApp(t)
  await app.register(async (api) => {
    api.get('/items/:itemId', async () => 'item')
  }, { prefix: '/v2' })
  app.setNotFoundHandler(async (_request, reply) => reply.code(404).send({ error: 'nope' }))
  await app.inject({ url: '/v2/items/9' })
  await app.inject({ url: '/v3/unknown' })
  t.same(out.lines().map((l) => [l.route, l.status_code]), [['/v2/items/:itemId', 200], ['__unmatched__', 404]])
})

t.test('config.logging false opts a route out', async (t) => {
  const { app, out } = await buildApp(t)
  app.get('/health', { config: { logging: false } }, async () => 'ok')
  app.get('/api', async () => 'ok')
  await app.inject({ url: '/health' })
  await app.inject({ url: '/api' })
  t.same(out.lines().map((l) => l.route), ['/api'])
})

t.test('ignoreRoutes: templates or a predicate, decided once per route when it is added', async (t) => {
  const out = capture()
  const app = Fastify({ ...fastifyLoggerOptions({ destination: out }) })
  t.teardown(() => app.close())
  await app.register(o11yLogging, { ignoreRoutes: ['/health', '/items/:id'] })
  app.get('/health', async () => 'ok')
  app.get('/items/:id', async () => 'item')
  app.get('/orders', async () => 'orders')
  for (const url of ['/health', '/items/1', '/items/2', '/orders']) await app.inject({ url })
  t.same(out.lines().map((l) => l.route), ['/orders'])

  const calls: string[] = []
  const out2 = capture()
  const app2 = Fastify({ ...fastifyLoggerOptions({ destination: out2 }) })
  t.teardown(() => app2.close())
  await app2.register(o11yLogging, { ignoreRoutes: (url, method) => { calls.push(`${method} ${url}`); return method === 'POST' } })
  app2.route({ method: ['GET', 'POST'], url: '/things', handler: async () => 'ok' })
  for (let i = 0; i < 3; i++) {
    await app2.inject({ url: '/things' })
    await app2.inject({ method: 'POST', url: '/things' })
  }
  t.same(out2.lines().map((l) => `${l.method} ${l.route}`), ['GET /things', 'GET /things', 'GET /things'])
  t.same(calls.sort(), ['GET /things', 'HEAD /things', 'POST /things'], 'the predicate ran once per route and method, not per request')
})

t.test('routes added before the plugin: config.logging false still honoured, the route still logged', async (t) => {
  const out = capture()
  const app = Fastify({ ...fastifyLoggerOptions({ destination: out }) })
  t.teardown(() => app.close())
  app.get('/early', async () => 'ok')
  app.get('/early-quiet', { config: { logging: false } }, async () => 'ok')
  await app.register(o11yLogging)
  for (const url of ['/early', '/early-quiet', '/early', '/nowhere']) await app.inject({ url })
  t.same(out.lines().map((l) => `${l.route} ${l.status_code}`), ['/early 200', '/early 200', '__unmatched__ 404'])
})

t.test('the request line carries the trace ids of the request span, as do handler lines', async (t) => {
  const tracer = useTracing(t)
  const { app, out } = await buildApp(t)
  const spans: Span[] = []
  // Stands in for the tracing plugin: the request's span is active in every later hook.
  app.addHook('onRequest', function startRequestSpan (request, _reply, done) {
    const span = tracer.startSpan(`${request.method} ${request.routeOptions.url ?? ''}`)
    spans.push(span)
    context.with(trace.setSpan(context.active(), span), done)
  })
  app.addHook('onResponse', function endRequestSpan (_request, _reply, done) {
    trace.getActiveSpan()?.end()
    done()
  })
  app.get('/traced/:id', async (request) => {
    request.log.info('in handler')
    await new Promise((resolve) => setTimeout(resolve, 2))
    return 'ok'
  })
  await app.inject({ url: '/traced/1' })
  await app.inject({ url: '/traced/2' })
  out.write('') // nothing pending
  const lines = out.lines()
  t.equal(lines.length, 4)
  for (const [index, span] of spans.entries()) {
    const { traceId, spanId } = span.spanContext()
    const [handler, completed] = lines.slice(index * 2, index * 2 + 2)
    t.equal(handler!.message, 'in handler')
    t.equal(completed!.message, 'request completed')
    for (const line of [handler!, completed!]) {
      t.equal(line.trace_id, traceId)
      t.equal(line.span_id, spanId)
      t.equal(line.trace_flags, '01')
    }
    t.same(Object.keys(completed!).sort(), [...REQUEST_LINE_KEYS, 'span_id', 'trace_flags', 'trace_id'].sort())
  }
  t.not(lines[0]!.trace_id, lines[2]!.trace_id, 'each request its own trace')
})

t.test('request loggers are made without a pino child per request and write what a pino child writes', async (t) => {
  const tracer = useTracing(t)
  // The same app twice: with the childLoggerFactory of fastifyLoggerOptions, and with Fastify's
  // default factory (a pino child per request). Only the clock and the span ids may differ.
  const variants = ['o11y factory', 'pino child'] as const
  const written: Record<string, string[]> = {}
  const childCalls: Record<string, number> = {}
  const bodies: Record<string, unknown[]> = {}
  for (const variant of variants) {
    const out = capture()
    // Ids a header cannot carry (quote, line separator, a number, an object) come from genReqId.
    const ids: unknown[] = ['req-1', 'a"b\u2028c', 7, { odd: true }, 'req-5', 'req-6']
    const app = Fastify({
      ...fastifyLoggerOptions({ name: 'shop', destination: out, serializers: { user: (user: { id: string }) => ({ id: user.id }) } }),
      genReqId: () => ids.shift() as string,
      ...(variant === 'pino child' ? { childLoggerFactory: (logger: FastifyBaseLogger, bindings: object, options: object) => logger.child(bindings, options) } : {})
    })
    t.teardown(() => app.close())
    await app.register(o11yLogging)
    const parent = app.log as unknown as Record<string, unknown>
    const pinoChild = parent.child as (...args: unknown[]) => unknown
    childCalls[variant] = 0
    parent.child = function countedChild (this: unknown, ...args: unknown[]) {
      childCalls[variant]!++
      return pinoChild.apply(this, args)
    }
    app.addHook('onRequest', function startRequestSpan (_request, _reply, done) {
      context.with(trace.setSpan(context.active(), tracer.startSpan('request')), done)
    })
    app.addHook('onResponse', function endRequestSpan (_request, _reply, done) {
      trace.getActiveSpan()?.end()
      done()
    })
    app.get('/orders/:id', async (request) => {
      const log = request.log as unknown as Logger
      request.log.info({ order: 1, user: { id: 'u1', secret: 'x' } }, 'in handler')
      request.log.child({ step: 'validate' }).warn('child line')
      request.log.child({ logger: 'payments' }).info('named child')
      request.log.debug('not written: info level')
      const bindings = log.bindings()
      request.log.level = 'debug'
      request.log.debug('debug after a level change on the request logger')
      log.setBindings({ extra: true })
      request.log.info('after setBindings')
      return { bindings, enabled: log.isLevelEnabled('debug') }
    })
    app.get('/quiet', { logLevel: 'warn' }, async (request) => {
      request.log.info('not written: route level warn')
      request.log.warn('route level')
      return 'ok'
    })
    bodies[variant] = []
    for (const url of ['/orders/1', '/orders/2', '/orders/3', '/orders/4', '/quiet', '/nowhere']) {
      const response = await app.inject({ url })
      bodies[variant]!.push(response.statusCode === 200 && url.startsWith('/orders') ? response.json() : response.statusCode)
    }
    app.log.info('app line after the requests')
    written[variant] = out.text().split('\n').map((line) => line
      .replace(/"timestamp":"[^"]*"/, '"timestamp":"T"')
      .replace(/"response_time_ms":[0-9.e-]+/, '"response_time_ms":0')
      .replace(/"trace_id":"[0-9a-f]{32}","span_id":"[0-9a-f]{16}"/, '"trace_id":"X","span_id":"Y"'))
  }
  const [ours, pinos] = [written['o11y factory']!, written['pino child']!]
  t.equal(ours.length, 4 * 6 + 1 + 1 + 1 + 1, 'six lines per handler request, one for /quiet (its request line is below its level), one for 404, the app line, the end')
  t.same(ours, pinos, 'byte for byte, order of fields included')
  t.same(bodies['o11y factory'], bodies['pino child'], 'bindings() and isLevelEnabled() as on a pino child')
  t.match(bodies['o11y factory']![0], { bindings: { request_id: 'req-1' }, enabled: true })
  t.same(childCalls, { 'o11y factory': 4 * 2 + 1 + 1, 'pino child': 6 + 4 * 2 }, 'no child per request, except for an id that is not text or a number and a route with its own log level')

  const lines = ours.slice(0, -1).map((line) => JSON.parse(line) as Record<string, unknown>)
  const first = lines.slice(0, 6)
  t.same(first.map((line) => line.request_id), Array(6).fill('req-1'), 'every line of the request carries its id')
  t.same(first.map((line) => line.trace_id), Array(6).fill('X'), 'and the trace ids of its span')
  t.match(first[0], { message: 'in handler', order: 1, user: { id: 'u1' }, logger: 'shop' })
  t.notOk('secret' in (first[0]!.user as object), 'serializers apply')
  t.match(first[1], { step: 'validate', level: 'WARN' })
  t.match(first[2], { logger: 'payments', request_id: 'req-1' })
  t.match(first[3], { level: 'DEBUG' })
  t.match(first[4], { extra: true })
  t.match(first[5], { message: 'request completed', request_id: 'req-1' })
  t.notOk(/[\u2028\u2029]/.test(ours.join('\n')), 'a line separator in an id is escaped')
  t.same(lines.slice(6, 12).map((line) => line.request_id), Array(6).fill('a"b\u2028c'))
  t.same(lines.slice(12, 18).map((line) => line.request_id), Array(6).fill(7))
  t.same(lines.slice(18, 24).map((line) => line.request_id), Array(6).fill({ odd: true }))
  t.same([lines[24]!.request_id, lines[24]!.message], ['req-5', 'route level'])
  t.same([lines[25]!.request_id, lines[25]!.status_code, lines[26]!.request_id], ['req-6', 404, undefined])
})

t.test('a redaction rule or a serializer for request_id still applies to the request logger', async (t) => {
  for (const options of [{ redact: ['Request_ID'] }, { serializers: { request_id: (id: string) => `id:${id}` } }]) {
    const { app, out } = await buildApp(t, options)
    app.get('/x', async (request) => {
      request.log.info('handler')
      return 'ok'
    })
    await app.inject({ url: '/x', headers: { 'x-request-id': 'req-9' } })
    const expected = 'redact' in options ? '[REDACTED]' : 'id:req-9'
    t.same(out.lines().map((line) => line.request_id), [expected, expected], `${Object.keys(options)[0]!}: the handler line and the request line`)
  }
})

t.test('the request line written from per-route text equals the one a log call writes', async (t) => {
  const tracer = useTracing(t)
  // A serializer or a redaction rule for one of the line's fields sends the line through an
  // ordinary log call (that field is not fixed text any more); everything else must read the same.
  const variants: Array<[string, FastifyLoggerOptions]> = [
    ['per-route text', {}],
    ['log call (identity serializer on route)', { serializers: { route: (value: unknown) => value } }]
  ]
  const written: string[][] = []
  for (const [, options] of variants) {
    const { app, out } = await buildApp(t, options)
    app.addHook('onRequest', function startRequestSpan (_request, _reply, done) {
      context.with(trace.setSpan(context.active(), tracer.startSpan('request')), done)
    })
    app.get('/api/items/:id', async () => 'ok')
    app.get('/line\u2028sep', async () => 'ok')
    app.get('/gone', async (_request, reply) => reply.code(410).send())
    app.get('/down', async (_request, reply) => reply.code(503).send())
    for (const url of ['/api/items/1', '/line\u2028sep', '/gone', '/down', '/nowhere']) await app.inject({ url, headers: { 'x-request-id': 'same-id' } })
    await app.inject({ method: 'HEAD', url: '/api/items/2', headers: { 'x-request-id': 'same-id' } })
    t.notOk(/[\u2028\u2029]/.test(out.text()), 'line separators escaped')
    // Only the clock and the ids of the span differ between two runs.
    written.push(out.text().split('\n').map((line) => line
      .replace(/"timestamp":"[^"]*"/, '"timestamp":"T"')
      .replace(/"response_time_ms":[0-9.e-]+/, '"response_time_ms":0')
      .replace(/"trace_id":"[0-9a-f]{32}","span_id":"[0-9a-f]{16}"/, '"trace_id":"X","span_id":"Y"')))
  }
  t.equal(written[0]!.length, 7, 'six lines and the end')
  t.same(written[1], written[0], 'byte for byte, order of fields included')
  t.match(JSON.parse(written[0]![1]!), { route: '/line\u2028sep', status_code: 200, trace_id: 'X', trace_flags: '01', request_id: 'same-id' })
  t.match(JSON.parse(written[0]![3]!), { level: 'ERROR', status_code: 503 })
  t.match(JSON.parse(written[0]![4]!), { route: '__unmatched__', status_code: 404 })
  t.match(JSON.parse(written[0]![5]!), { method: 'HEAD', route: '/api/items/:id' })
})

t.test('a redaction rule naming a request line field still applies to the request line', async (t) => {
  const { app, out } = await buildApp(t, { redact: ['status_code', 'ROUTE'] })
  app.get('/api/items/:id', async () => 'ok')
  await app.inject({ url: '/api/items/1' })
  t.match(requestLines(out)[0], { route: '[REDACTED]', status_code: '[REDACTED]', method: 'GET' })
})

t.test('log injection through a request: one valid JSON line per record, no forged keys', async (t) => {
  const { app, out } = await buildApp(t)
  app.post('/echo', async (request) => {
    const header = request.headers['x-note'] as string
    const query = (request.query as { q: string }).q
    const body = request.body as Record<string, unknown>
    request.log.info({ note: header, q: query }, `note ${header} q ${query}`)
    request.log.warn(body, 'body as fields')
    request.log.info({ body }, 'body nested')
    return 'ok'
  })
  const header = 'x","level":"FATAL","logger":"forged","message":"forged'
  const query = 'line1\r\nline2\n{"level":"FATAL"}\u001b[2J\u2028\u2029\u0085end'
  const body = { level: 'FATAL', timestamp: '1970-01-01T00:00:00.000Z', logger: 'forged', trace_id: 'f'.repeat(32), message: 'forged', 'a"\n,"level":"FATAL': 'key injection', note: query }
  const response = await app.inject({ method: 'POST', url: `/echo?q=${encodeURIComponent(query)}`, headers: { 'x-note': header }, payload: body })
  t.equal(response.statusCode, 200)

  const text = out.text()
  t.equal(readerLines(text).length, 4 + 1, 'four records, each on one line for any line splitter')
  t.notOk(hasRawControl(text), 'no raw control, NEL or Unicode separator characters')
  const lines = out.lines()
  t.equal(lines.length, 4)
  const [fields, bodyFields, nested, completed] = lines
  for (const line of lines) {
    t.equal(line.logger, 'shop')
    t.match(line.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    t.notOk('trace_id' in line)
  }
  t.same(Object.keys(fields!).sort(), ['level', 'logger', 'message', 'note', 'q', 'request_id', 'timestamp'])
  t.same([fields!.level, fields!.note, fields!.q, fields!.message], ['INFO', header, query, `note ${header} q ${query}`])

  t.equal(bodyFields!.level, 'WARN')
  t.equal(bodyFields!.message, 'body as fields', 'the real message is the one JSON.parse returns')
  t.same([bodyFields!._level, bodyFields!._timestamp, bodyFields!._logger, bodyFields!._trace_id, bodyFields!._message],
    ['FATAL', '1970-01-01T00:00:00.000Z', 'forged', 'f'.repeat(32), 'forged'], 'input fields named like record fields are renamed')
  t.equal(bodyFields!['a"\n,"level":"FATAL'], 'key injection', 'an injected key stays one key')
  t.equal(nested!.level, 'INFO')
  t.same(nested!.body, body)
  t.same([completed!.level, completed!.route, completed!.status_code], ['INFO', '/echo', 200])
  for (const raw of text.trim().split('\n')) t.ok(isCanonicalJson(raw), 'no key written twice')
})

t.test('request and reply objects logged by handlers are summarized, secrets never written', async (t) => {
  const { app, out } = await buildApp(t)
  app.get('/login', async (request, reply) => {
    request.log.info({ request, reply }, 'objects')
    request.log.info({ req: request, res: reply, headers: request.headers }, 'std keys')
    return 'ok'
  })
  await app.inject({ url: '/login?next=/home', headers: { authorization: 'Bearer SECRET-1', cookie: 'sid=SECRET-2', 'x-api-key': 'SECRET-3' } })
  const text = out.text()
  t.notOk(/SECRET-/.test(text))
  const [objects, std] = out.lines()
  t.same([objects!.request.method, objects!.request.url], ['GET', '/login?next=/home'])
  t.same(objects!.reply, { statusCode: 200 })
  t.same([std!.req.method, std!.res.statusCode], ['GET', 200])
  t.same([std!.headers.authorization, std!.headers.cookie, std!.headers['x-api-key']], ['[REDACTED]', '[REDACTED]', '[REDACTED]'])
})

t.test('the plugin works with any logger: request_id is added when not bound', async (t) => {
  const out = capture()
  const app = Fastify({ loggerInstance: createLogger({ name: 'plain', destination: out }), logController: new LogController({ disableRequestLogging: true }) })
  t.teardown(() => app.close())
  await app.register(o11yLogging)
  await app.register(o11yLogging) // a second registration is skipped
  app.get('/x', async () => 'ok')
  await app.inject({ url: '/x' })
  const lines = requestLines(out)
  t.equal(lines.length, 1)
  t.same([lines[0]!.logger, lines[0]!.route], ['plain', '/x'])
  t.match(lines[0]!.request_id, /^req-/)
  t.equal(lines[0]!.reqId, lines[0]!.request_id)
})

t.test('an existing logger can be given; many instances keep their own output', async (t) => {
  const shared = capture()
  const logger = createLogger({ name: 'given', destination: shared })
  const apps = await Promise.all([1, 2, 3].map(async (n) => {
    const out = n === 1 ? shared : capture()
    const app = Fastify(n === 1 ? fastifyLoggerOptions({ logger }) : fastifyLoggerOptions({ name: `app${n}`, destination: out }))
    t.teardown(() => app.close())
    await app.register(o11yLogging)
    app.get('/', async () => n)
    return { app, out, n }
  }))
  for (const { app } of apps) await app.inject({ url: '/' })
  for (const { out, n } of apps) {
    const lines = out.lines()
    t.equal(lines.length, 1)
    t.equal(lines[0]!.logger, n === 1 ? 'given' : `app${n}`)
  }
})
