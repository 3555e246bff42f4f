import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import { createLogger, ERROR_CODES, fastifyLoggerOptions, getLogger, LoggingError, o11yLogging } from '../src/index'
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
})

t.test('INVALID_REDACT', async (t) => {
  assertCode(t, bad({ redact: 'password' }), ERROR_CODES.INVALID_REDACT, 'redact')
  assertCode(t, bad({ redact: { paths: 'password' } }), ERROR_CODES.INVALID_REDACT, 'redact.paths')
  assertCode(t, bad({ redact: { censor: 0 } }), ERROR_CODES.INVALID_REDACT, 'redact.censor')
  assertCode(t, bad({ redact: { replaceDefaults: 'yes' } }), ERROR_CODES.INVALID_REDACT, 'redact.replaceDefaults')
})

t.test('INVALID_REDACT_PATH', async (t) => {
  for (const path of ['', 'a..b', 'a.', '.a', 'a[0]', 'a["b"', 'a["b"]c', 'a"b', 'a[""]', 7]) {
    assertCode(t, bad({ redact: [path] }), ERROR_CODES.INVALID_REDACT_PATH, 'redact.paths')
  }
  for (const path of ['a', 'a.b', 'a.*', '*', 'a["b.c"]', "a['b']", 'headers["set-cookie"].x', 'a["b"]["c"]']) {
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
