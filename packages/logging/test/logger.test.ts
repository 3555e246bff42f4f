import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { context, trace, TraceFlags } from '@opentelemetry/api'
import { createLogger, getLogger, LOG_FIELDS } from '../src/index'
import { capture, hasRawControl, isCanonicalJson, readerLines, useTracing } from './helpers'

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

t.test('a line has timestamp, level, logger, message and the caller fields, nothing else', async (t) => {
  const out = capture()
  const log = createLogger({ name: 'orders', destination: out })
  const before = Date.now()
  log.info({ order_id: 42, customer: { tier: 'gold' } }, 'order created')
  const after = Date.now()

  const lines = out.lines()
  t.equal(lines.length, 1)
  const line = lines[0]!
  t.same(Object.keys(line).sort(), ['customer', 'level', 'logger', 'message', 'order_id', 'timestamp'])
  t.match(line.timestamp, ISO_UTC)
  const time = Date.parse(line.timestamp)
  t.ok(time >= before - 1 && time <= after + 1, 'timestamp is the time of the call')
  t.equal(line.level, 'INFO')
  t.equal(line.logger, 'orders')
  t.equal(line.message, 'order created')
  t.equal(line.order_id, 42)
  t.same(line.customer, { tier: 'gold' })
  t.notOk('pid' in line || 'hostname' in line || 'msg' in line || 'time' in line || 'name' in line)
})

t.test('the field names are the documented LOG_FIELDS values', async (t) => {
  t.same(LOG_FIELDS, {
    timestamp: 'timestamp',
    level: 'level',
    logger: 'logger',
    message: 'message',
    error: 'err',
    traceId: 'trace_id',
    spanId: 'span_id',
    traceFlags: 'trace_flags',
    route: 'route',
    method: 'method',
    statusCode: 'status_code',
    responseTimeMs: 'response_time_ms',
    requestId: 'request_id',
    truncated: 'truncated'
  })
})

t.test('every level is written as its upper-case label', async (t) => {
  const out = capture()
  const log = createLogger({ destination: out, level: 'trace' })
  log.trace('t')
  log.debug('d')
  log.info('i')
  log.warn('w')
  log.error('e')
  log.fatal('f')
  t.same(out.lines().map((l) => [l.level, l.message]), [
    ['TRACE', 't'], ['DEBUG', 'd'], ['INFO', 'i'], ['WARN', 'w'], ['ERROR', 'e'], ['FATAL', 'f']
  ])
})

t.test('defaults: name "app", level info; the level option filters and accepts any case', async (t) => {
  const out = capture()
  const log = createLogger({ destination: out })
  log.debug('hidden')
  log.info('shown')
  t.same(out.lines().map((l) => [l.logger, l.message]), [['app', 'shown']])

  const quiet = capture()
  const warnOnly = createLogger({ destination: quiet, level: 'WARN' as 'warn' })
  warnOnly.info('hidden')
  warnOnly.warn('shown')
  t.same(quiet.lines().map((l) => l.message), ['shown'])

  const none = capture()
  createLogger({ destination: none, level: 'silent' }).fatal('hidden')
  t.equal(none.text(), '')
})

t.test('errors are serialized under err with type, message and stack', async (t) => {
  const out = capture()
  const log = createLogger({ destination: out })
  const error = Object.assign(new Error('payment declined'), { code: 'DECLINED' })
  log.error(error)
  log.error({ err: new TypeError('bad input') }, 'validation failed')
  const [first, second] = out.lines()
  t.equal(first!.message, 'payment declined')
  t.equal(first!.err.type, 'Error')
  t.equal(first!.err.message, 'payment declined')
  t.equal(first!.err.code, 'DECLINED')
  t.match(first!.err.stack, /^Error: payment declined\n\s+at /)
  t.equal(second!.message, 'validation failed')
  t.equal(second!.err.type, 'TypeError')
})

t.test('base fields are on every line; custom serializers apply', async (t) => {
  const out = capture()
  const log = createLogger({
    destination: out,
    base: { service: 'orders', region: 'eu-1' },
    serializers: { user: (user: { id: number, name: string }) => ({ id: user.id }) }
  })
  log.info({ user: { id: 7, name: 'Ada' } }, 'one')
  log.child({ job: 'sync' }).info('two')
  const lines = out.lines()
  for (const line of lines) {
    t.equal(line.service, 'orders')
    t.equal(line.region, 'eu-1')
  }
  t.same(lines[0]!.user, { id: 7 })
  t.equal(lines[1]!.job, 'sync')
})

t.test('a throwing serializer does not make the log call throw', async (t) => {
  const out = capture()
  const log = createLogger({ destination: out, serializers: { user: () => { throw new Error('no user') } } })
  t.doesNotThrow(() => log.info({ user: { id: 1 }, ok: true }, 'still written'))
  const line = out.lines()[0]!
  t.same([line.message, line.ok, line.user], ['still written', true, '[serializer "user" failed: no user]'])
})

t.test('caller fields and bindings cannot overwrite the fields the logger writes', async (t) => {
  const out = capture()
  const log = createLogger({ name: 'real', destination: out })
  log.info({ level: 'FATAL', timestamp: 'forged', logger: 'forged', trace_id: 'forged', span_id: 'x', trace_flags: 'y' }, 'm')
  log.child({ level: 'FATAL', timestamp: 'forged', trace_id: 'forged' }).info('n')
  const [first, second] = out.lines()
  t.equal(first!.level, 'INFO')
  t.match(first!.timestamp, ISO_UTC)
  t.equal(first!.logger, 'real')
  t.notOk('trace_id' in first!)
  t.same([first!._level, first!._timestamp, first!._logger, first!._trace_id, first!._span_id, first!._trace_flags],
    ['FATAL', 'forged', 'forged', 'forged', 'x', 'y'])
  t.equal(second!.level, 'INFO')
  t.same([second!._level, second!._timestamp, second!._trace_id], ['FATAL', 'forged', 'forged'])
  log.info({ message: 'from the fields' })
  log.info({ message: 'a field', n: 1 }, 'the message')
  log.error(new Error('error message'), 'explicit message')
  const [, , onlyField, both, error] = out.lines()
  t.equal(onlyField!.message, 'from the fields', 'a message field alone is the message')
  t.same([both!.message, both!._message, both!.n], ['the message', 'a field', 1], 'with a message argument the field is renamed')
  t.same([error!.message, error!.err.message], ['explicit message', 'error message'])
  // a duplicate key would win over the real one in most JSON readers
  for (const raw of out.text().trim().split('\n')) t.ok(isCanonicalJson(raw), 'no key written twice')
})

t.test('trace context', async (t) => {
  const tracer = useTracing(t)

  t.test('trace_id, span_id and trace_flags of the active span', async (t) => {
    const out = capture()
    const log = createLogger({ destination: out })
    let ids: { traceId: string, spanId: string } | undefined
    await tracer.startActiveSpan('work', async (span) => {
      ids = span.spanContext()
      log.info('sync inside')
      await new Promise((resolve) => setTimeout(resolve, 5))
      log.info({ step: 2 }, 'after an await inside')
      span.end()
    })
    log.info('outside')
    const [inside, later, outside] = out.lines()
    for (const line of [inside!, later!]) {
      t.equal(line.trace_id, ids!.traceId)
      t.equal(line.span_id, ids!.spanId)
      t.equal(line.trace_flags, '01')
      t.match(line.trace_id, /^[0-9a-f]{32}$/)
      t.match(line.span_id, /^[0-9a-f]{16}$/)
    }
    t.equal(later!.step, 2)
    t.notOk('trace_id' in outside! || 'span_id' in outside! || 'trace_flags' in outside!)
  })

  t.test('a nested span is the one logged', async (t) => {
    const out = capture()
    const log = createLogger({ destination: out })
    tracer.startActiveSpan('parent', (parent) => {
      tracer.startActiveSpan('child', (child) => {
        log.info('in child')
        t.equal(out.lines()[0]!.span_id, child.spanContext().spanId)
        t.equal(out.lines()[0]!.trace_id, parent.spanContext().traceId)
        child.end()
      })
      log.info('in parent')
      t.equal(out.lines()[1]!.span_id, parent.spanContext().spanId)
      parent.end()
    })
  })

  t.test('an unsampled span gives trace_flags 00; an invalid span context gives no ids', async (t) => {
    const out = capture()
    const log = createLogger({ destination: out })
    const unsampled = trace.wrapSpanContext({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.NONE })
    context.with(trace.setSpan(context.active(), unsampled), () => log.info('unsampled'))
    const invalid = trace.wrapSpanContext({ traceId: '00000000000000000000000000000000', spanId: '0000000000000000', traceFlags: TraceFlags.SAMPLED })
    context.with(trace.setSpan(context.active(), invalid), () => log.info('invalid'))
    const [first, second] = out.lines()
    t.same([first!.trace_id, first!.span_id, first!.trace_flags], ['0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', '00'])
    t.notOk('trace_id' in second!)
  })

  t.test('child and getLogger loggers carry the ids too', async (t) => {
    const out = capture()
    const log = createLogger({ destination: out })
    let traceId = ''
    tracer.startActiveSpan('work', (span) => {
      traceId = span.spanContext().traceId
      log.child({ job: 'a' }).info('child')
      getLogger('payments').info('named')
      span.end()
    })
    const lines = out.lines()
    t.equal(lines.length, 2)
    for (const line of lines) t.equal(line.trace_id, traceId)
  })
})

t.test('without a registered tracer provider there are no ids and nothing fails', async (t) => {
  const out = capture()
  const log = createLogger({ destination: out })
  trace.getTracer('none').startActiveSpan('noop', (span) => {
    log.info('no provider')
    span.end()
  })
  t.notOk('trace_id' in out.lines()[0]!)
})

t.test('getLogger', async (t) => {
  t.test('follows the most recently created logger, also when called before it', async (t) => {
    const early = getLogger('payments')
    const first = capture()
    createLogger({ name: 'svc', destination: first, level: 'debug' })
    early.debug({ amount: 10 }, 'charged')
    const second = capture()
    createLogger({ name: 'svc2', destination: second })
    early.info('refunded')
    early.debug('hidden at info')
    t.same(first.lines().map((l) => [l.logger, l.level, l.message, l.amount]), [['payments', 'DEBUG', 'charged', 10]])
    t.same(second.lines().map((l) => [l.logger, l.message]), [['payments', 'refunded']])
    t.equal(typeof early.child, 'function')
    t.ok('info' in early)
    t.equal(early.isLevelEnabled('info'), true)
    early.level = 'warn'
    t.equal(early.level, 'warn')
    t.equal(typeof Object.getPrototypeOf(early).child, 'function', 'prototype of the pino logger behind it')
  })

  t.test('with a parent: a child of that logger with the name', async (t) => {
    const out = capture()
    const root = createLogger({ name: 'svc', destination: out, base: { service: 'svc' } })
    const db = getLogger('db', root.child({ shard: 3 }))
    db.info('query')
    db.child({ table: 'orders' }).info('inner')
    const [query, inner] = out.lines()
    t.same([query!.logger, query!.service, query!.shard], ['db', 'svc', 3])
    t.same([inner!.logger, inner!.table], ['db', 'orders'])
  })

  t.test('child({ logger }) renames without a second logger key', async (t) => {
    const out = capture()
    const root = createLogger({ name: 'svc', destination: out })
    root.child({ logger: 'cache', node: 1 }).info('hit')
    root.info('root')
    const [hit, plain] = out.lines()
    t.same([hit!.logger, hit!.node], ['cache', 1])
    t.equal(plain!.logger, 'svc')
    t.ok(isCanonicalJson(out.text().split('\n')[0]!), 'no second logger key')
  })

  t.test('before any logger exists it creates a stdout logger with default options', async (t) => {
    const dist = join(__dirname, '..', 'dist', 'index.js')
    const stdout = execFileSync(process.execPath, ['-e',
      `require(${JSON.stringify(dist)}).getLogger('boot').info({ password: 'p' }, 'started')`],
    { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
    const line = JSON.parse(stdout.trim())
    t.same([line.logger, line.level, line.message, line.password], ['boot', 'INFO', 'started', '[REDACTED]'])
  })
})

t.test('destination: file path and file descriptor', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'o11y-logging-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'app.log')
  const log = createLogger({ destination: file, sync: true })
  log.info({ n: 1 }, 'to a file')
  const line = JSON.parse(readFileSync(file, 'utf8').trim())
  t.same([line.message, line.n], ['to a file', 1])

  const dist = join(__dirname, '..', 'dist', 'index.js')
  const child = spawnSync(process.execPath, ['-e',
    `require(${JSON.stringify(dist)}).createLogger({ destination: 2, sync: true }).warn('to fd 2')`],
  { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
  t.equal(child.stdout, '')
  t.equal(JSON.parse(child.stderr.trim()).message, 'to fd 2')
})

t.test('Unicode line and paragraph separators and NEL are escaped: a record is one line for any reader', async (t) => {
  const out = capture()
  const log = createLogger({ destination: out })
  const evil = 'a\u2028b\u2029c\u0085d\r\ne\u001b[31mf'
  log.info({ field: evil }, evil)
  const text = out.text()
  t.same(readerLines(text).length, 2, 'one line, then the final newline')
  t.notOk(hasRawControl(text))
  const line = out.lines()[0]!
  t.equal(line.field, evil)
  t.equal(line.message, evil)
})

t.test('the timestamp is the text toISOString() writes, for every millisecond, second and year', async (t) => {
  const out = capture()
  const log = createLogger({ destination: out })
  const realNow = Date.now
  t.teardown(() => { Date.now = realNow })
  const base = Date.UTC(2026, 10, 30, 23, 59, 58, 997)
  const times = [
    ...Array.from({ length: 2010 }, (_, i) => base + i), // across two second and a day, month boundary
    base + 5, base + 3, base, // back in time
    0, 999, 1000, -1, -1000, -1001, -62198755200000, // the epoch, before it, year 0
    253402300799999, 253402300800000, 8.64e15 // the last millisecond of 9999, year 10000, the largest date
  ]
  for (const time of times) {
    Date.now = () => time
    log.info('tick')
  }
  Date.now = realNow
  const written = out.lines().map((line) => line.timestamp as string)
  const expected = times.map((time) => new Date(time).toISOString())
  t.equal(written.length, times.length)
  t.same(written.filter((text, i) => text !== expected[i]), [], 'no line differs from toISOString()')
})
