import t from 'tap'
import Fastify, { LogController } from 'fastify'
import type { FastifyInstance } from 'fastify'
import { context, trace } from '@opentelemetry/api'
import type { Span } from '@opentelemetry/api'
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
  t.same(Object.keys(options).sort(), ['genReqId', 'logController', 'loggerInstance', 'requestIdHeader'])
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
