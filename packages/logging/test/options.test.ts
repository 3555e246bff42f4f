import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import { createServer } from 'node:net'
import { createLogger, ERROR_CODES, fastifyLoggerOptions, flushLogs, getLogger, loggingStats, LoggingError, o11yLogging } from '../src/index'
import { capture } from './helpers'

const seen = new Set<string>()

/** Asserts `fn` throws a LoggingError with `code` whose message names the package and `option`. */
function assertCode (t: tap.Test, fn: () => unknown, code: string, option: string): void {
  try {
    fn()
    t.fail(`expected ${code} for ${option}`)
  } catch (error) {
    t.ok(error instanceof LoggingError, `${code}: a LoggingError`)
    t.ok(error instanceof Error)
    t.equal((error as LoggingError).code, code, `${option}: code`)
    t.match((error as Error).message, /^@o11y\/logging: /, 'message names the package')
    t.ok((error as Error).message.includes(`"${option}"`), `message names "${option}": ${(error as Error).message}`)
    seen.add(code)
  }
}

const out = capture()
const bad = (options: unknown) => () => createLogger({ destination: out, ...(options as object) })

t.test('INVALID_OPTIONS', async (t) => {
  for (const options of [null, 'info', 42, ['x'], new Map()]) {
    try {
      createLogger(options as never)
      t.fail('accepted ' + String(options))
    } catch (error) {
      t.equal((error as LoggingError).code, ERROR_CODES.INVALID_OPTIONS)
      t.match((error as Error).message, /createLogger options must be an object/)
    }
  }
  seen.add(ERROR_CODES.INVALID_OPTIONS)
  assertCode(t, () => fastifyLoggerOptions({ logger: createLogger({ destination: out }), level: 'debug' }), ERROR_CODES.INVALID_OPTIONS, 'level')
})

t.test('UNKNOWN_OPTION', async (t) => {
  assertCode(t, bad({ levle: 'info' }), ERROR_CODES.UNKNOWN_OPTION, 'levle')
  assertCode(t, bad({ redact: { path: ['x'] } }), ERROR_CODES.UNKNOWN_OPTION, 'path')
  assertCode(t, () => fastifyLoggerOptions({ requestIdLabel: 'x' } as never), ERROR_CODES.UNKNOWN_OPTION, 'requestIdLabel')
  const app = Fastify()
  t.teardown(() => app.close())
  await t.rejects(async () => { await app.register(o11yLogging, { clientErrorlevel: 'warn' } as never) }, { code: ERROR_CODES.UNKNOWN_OPTION, message: /"clientErrorlevel"/ })
})

t.test('INVALID_NAME', async (t) => {
  for (const name of ['', '   ', 7, null]) assertCode(t, bad({ name }), ERROR_CODES.INVALID_NAME, 'name')
  assertCode(t, () => getLogger(''), ERROR_CODES.INVALID_NAME, 'name')
  assertCode(t, () => getLogger(undefined as never), ERROR_CODES.INVALID_NAME, 'name')
})

t.test('INVALID_LEVEL', async (t) => {
  for (const level of ['verbose', '', 30, null]) assertCode(t, bad({ level }), ERROR_CODES.INVALID_LEVEL, 'level')
  for (const clientErrorLevel of ['silent', 'loud', 1]) {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(o11yLogging, { clientErrorLevel } as never) }, { code: ERROR_CODES.INVALID_LEVEL, message: /"clientErrorLevel"/ })
  }
})

t.test('INVALID_DESTINATION', async (t) => {
  for (const destination of [{}, -1, 1.5, '', null, { write: 'no' }]) {
    assertCode(t, () => createLogger({ destination: destination as never }), ERROR_CODES.INVALID_DESTINATION, 'destination')
  }
  assertCode(t, bad({ sync: 'yes' }), ERROR_CODES.INVALID_DESTINATION, 'sync')
  assertCode(t, () => createLogger({ destination: '/nonexistent-dir/o11y/app.log' }), ERROR_CODES.INVALID_DESTINATION, 'destination')
})

t.test('INVALID_OPTION_VALUE', async (t) => {
  for (const maxBufferLength of [0, 1000, -1, 1.5, '4MB', Infinity]) assertCode(t, bad({ maxBufferLength }), ERROR_CODES.INVALID_OPTION_VALUE, 'maxBufferLength')
  for (const maxLineBytes of [0, 1023, NaN, '32k']) assertCode(t, bad({ maxLineBytes }), ERROR_CODES.INVALID_OPTION_VALUE, 'maxLineBytes')
  assertCode(t, bad({ dbErrorDetail: 'yes' }), ERROR_CODES.INVALID_OPTION_VALUE, 'dbErrorDetail')
  for (const ignoreRoutes of ['/health', [1], {}]) {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(o11yLogging, { ignoreRoutes } as never) }, { code: ERROR_CODES.INVALID_OPTION_VALUE, message: /"ignoreRoutes"/ })
  }
})

/** Resolves with the first process warning of type O11yLoggingWarning. */
function nextWarning (): Promise<Error & { code?: string }> {
  return new Promise((resolve) => {
    const listener = (warning: Error & { code?: string }): void => {
      if (warning.name !== 'O11yLoggingWarning') return
      process.off('warning', listener)
      resolve(warning)
    }
    process.on('warning', listener)
  })
}

t.test('warnings: DROPPED, WRITE_FAILED (a real full device), IGNORE_ROUTES_FAILED', async (t) => {
  const dropped = nextWarning()
  const log = createLogger({ destination: '/dev/null', maxBufferLength: 64 * 1024 })
  for (let i = 0; i < 200; i++) log.info({ pad: 'x'.repeat(1000) }, 'flood')
  const drop = await dropped
  t.equal(drop.code, ERROR_CODES.DROPPED)
  t.match(drop.message, /^@o11y\/logging: logger "app": the log destination is not keeping up/)
  seen.add(ERROR_CODES.DROPPED)

  const failed = nextWarning()
  createLogger({ destination: '/dev/full' }).info('no space left')
  const fail = await failed
  t.equal(fail.code, ERROR_CODES.WRITE_FAILED)
  t.match(fail.message, /writing log lines failed \(ENOSPC\)/)
  seen.add(ERROR_CODES.WRITE_FAILED)

  const ignoreFailed = nextWarning()
  const app = Fastify({ ...fastifyLoggerOptions({ destination: capture() }) })
  t.teardown(() => app.close())
  await app.register(o11yLogging, { ignoreRoutes: () => { throw new Error('bad predicate') } })
  app.get('/', async () => 'ok')
  await app.ready()
  const ignore = await ignoreFailed
  t.equal(ignore.code, ERROR_CODES.IGNORE_ROUTES_FAILED)
  t.match(ignore.message, /ignoreRoutes threw for GET \/ \(bad predicate\); the route is logged/)
  seen.add(ERROR_CODES.IGNORE_ROUTES_FAILED)
})

t.test('INVALID_REDACT', async (t) => {
  assertCode(t, bad({ redact: 'password' }), ERROR_CODES.INVALID_REDACT, 'redact')
  assertCode(t, bad({ redact: { paths: 'password' } }), ERROR_CODES.INVALID_REDACT, 'redact.paths')
  assertCode(t, bad({ redact: { censor: 0 } }), ERROR_CODES.INVALID_REDACT, 'redact.censor')
  assertCode(t, bad({ redact: { replaceDefaults: 'yes' } }), ERROR_CODES.INVALID_REDACT, 'redact.replaceDefaults')
  assertCode(t, bad({ redact: { remove: ['password'] } }), ERROR_CODES.INVALID_REDACT, 'redact.remove')
  assertCode(t, bad({ redact: { remove: '*token*' } }), ERROR_CODES.INVALID_REDACT, 'redact.remove')
})

t.test('INVALID_REDACT_PATH', async (t) => {
  for (const path of ['', 'a..b', 'a.', '.a', 'a[0]', 'a["b"', 'a["b"]c', 'a"b', 'a[""]', 7]) {
    assertCode(t, bad({ redact: [path] }), ERROR_CODES.INVALID_REDACT_PATH, 'redact.paths')
  }
  for (const path of ['a', 'a.b', 'a.*', '*', '*token*', 'a.*b?c*', 'a["b.c"]', "a['b']", 'headers["set-cookie"].x', 'a["b"]["c"]']) {
    t.doesNotThrow(() => createLogger({ destination: out, redact: [path] }), path)
  }
})

t.test('INVALID_BASE', async (t) => {
  for (const base of [[], 'x', new Date()]) assertCode(t, bad({ base }), ERROR_CODES.INVALID_BASE, 'base')
  for (const key of ['timestamp', 'level', 'logger', 'message', 'trace_id', 'span_id', 'trace_flags']) {
    try {
      createLogger({ destination: out, base: { [key]: 'x' } })
      t.fail(key)
    } catch (error) {
      t.equal((error as LoggingError).code, ERROR_CODES.INVALID_BASE)
      t.match((error as Error).message, new RegExp(`"base" must not set "${key}"`))
    }
  }
})

t.test('INVALID_SERIALIZERS', async (t) => {
  assertCode(t, bad({ serializers: 'x' }), ERROR_CODES.INVALID_SERIALIZERS, 'serializers')
  assertCode(t, bad({ serializers: { user: 'x' } }), ERROR_CODES.INVALID_SERIALIZERS, 'serializers.user')
})

t.test('INVALID_LOGGER', async (t) => {
  for (const logger of [{}, { info () {} }, 'pino', null]) {
    assertCode(t, () => fastifyLoggerOptions({ logger: logger as never }), ERROR_CODES.INVALID_LOGGER, 'logger')
  }
  assertCode(t, () => getLogger('x', {} as never), ERROR_CODES.INVALID_LOGGER, 'logger')
})

t.test('INVALID_REQUEST_ID_HEADER', async (t) => {
  for (const requestIdHeader of ['bad header', '', 1, true, 'x-id\n']) {
    assertCode(t, () => fastifyLoggerOptions({ destination: out, requestIdHeader: requestIdHeader as never }), ERROR_CODES.INVALID_REQUEST_ID_HEADER, 'requestIdHeader')
  }
})

t.test('INVALID_OTLP', async (t) => {
  assertCode(t, bad({ otlp: 'on' }), ERROR_CODES.INVALID_OTLP, 'otlp')
  assertCode(t, bad({ otlp: { endpoint: 'collector:4318' } }), ERROR_CODES.INVALID_OTLP, 'otlp.endpoint')
  assertCode(t, bad({ otlp: { endpoint: 'ftp://collector' } }), ERROR_CODES.INVALID_OTLP, 'otlp.endpoint')
  assertCode(t, bad({ otlp: { endpoint: 4318 } }), ERROR_CODES.INVALID_OTLP, 'otlp.endpoint')
  assertCode(t, bad({ otlp: { protocol: 'http/json' } }), ERROR_CODES.INVALID_OTLP, 'otlp.protocol')
  for (const name of ['maxQueueSize', 'maxExportBatchSize', 'scheduledDelayMillis', 'exportTimeoutMillis', 'shutdownTimeoutMillis']) {
    for (const value of [0, -1, 1.5, '10', Number.MAX_VALUE]) assertCode(t, bad({ otlp: { [name]: value } }), ERROR_CODES.INVALID_OTLP, `otlp.${name}`)
  }
  assertCode(t, bad({ otlp: { maxQueueSize: 10, maxExportBatchSize: 11 } }), ERROR_CODES.INVALID_OTLP, 'otlp.maxExportBatchSize')
  assertCode(t, bad({ otlp: { endpoint: 'http://x', nope: 1 } }), ERROR_CODES.UNKNOWN_OPTION, 'nope')
  t.equal(createLogger({ destination: out, otlp: false }) !== undefined, true, 'otlp: false is accepted')
})

t.test('warnings: OTLP_DROPPED, OTLP_EXPORT_FAILED (a closed port), once each', async (t) => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  const warnings: Array<{ code?: string }> = []
  const onWarning = (w: Error & { code?: string }): void => { warnings.push(w) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })
  const log = createLogger({ destination: capture(), otlp: { endpoint: `http://127.0.0.1:${port}/v1/logs`, maxQueueSize: 1, maxExportBatchSize: 1, scheduledDelayMillis: 1, exportTimeoutMillis: 200 } })
  // The first record goes out at once (a full batch), the second waits, the next ones find the queue full.
  for (let i = 0; i < 5; i++) log.info({ i }, 'record')
  t.ok(await flushLogs(log, { timeoutMs: 5000 }), 'flushed (the failures are counted, not raised)')
  await new Promise((resolve) => setImmediate(resolve))
  const codes = warnings.map((w) => w.code)
  t.equal(codes.filter((c) => c === ERROR_CODES.OTLP_DROPPED).length, 1)
  t.equal(codes.filter((c) => c === ERROR_CODES.OTLP_EXPORT_FAILED).length, 1)
  t.match(loggingStats(log), { otlpExported: 0, otlpDropped: 3, otlpFailed: 2, otlpQueued: 0 })
  seen.add(ERROR_CODES.OTLP_DROPPED)
  seen.add(ERROR_CODES.OTLP_EXPORT_FAILED)
})

t.test('every error code is tested and listed in docs/errors.md and the README', async (t) => {
  const codes = Object.values(ERROR_CODES)
  t.same([...seen].sort(), [...codes].sort(), 'each code has a test above')
  const docs = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'errors.md'), 'utf8')
  const section = docs.slice(docs.indexOf('## @o11y/logging'), docs.indexOf('## @o11y/metrics'))
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8')
  for (const code of codes) {
    t.match(code, /^O11Y_ERR_LOGGING_[A-Z_]+$/)
    t.ok(section.includes(`| \`${code}\` |`), `${code} in docs/errors.md`)
    t.ok(readme.includes(`\`${code}\``), `${code} in README`)
  }
})
