import t from 'tap'
import { join } from 'node:path'
import { loadAsConsumers, runAsConsumer } from '@o11y/test-utils'

const cwd = join(__dirname, '..')

const EXPORTS = [
  'DEFAULT_CENSOR',
  'DEFAULT_MAX_BUFFER_LENGTH',
  'DEFAULT_MAX_LINE_BYTES',
  'DEFAULT_REDACT_PATHS',
  'DROPPED_LINES_READER',
  'ERROR_CODES',
  'ERROR_MESSAGES',
  'LEVELS',
  'LOG_FIELDS',
  'LoggingError',
  'OTLP_DEFAULTS',
  'REDACT_MAX_DEPTH',
  'REQUEST_COMPLETED_MESSAGE',
  'SEVERITY_NUMBERS',
  'TRUNCATION_MARKER',
  'UNMATCHED_ROUTE',
  'createLogger',
  'fastifyLoggerOptions',
  'flushLogs',
  'getLogger',
  'loggingStats',
  'o11yLogging'
]

const run = (type: 'module' | 'commonjs', source: string): unknown => runAsConsumer(type, source, cwd)

/**
 * Registers `plugin` on an app that logs into memory, answers one request and prints what the
 * consumer saw: the request line's route and status, and whether the plugin is the same function.
 */
const probe = `
  async function probe (Fastify, fastifyLoggerOptions, plugin) {
    const written = []
    const app = Fastify({ ...fastifyLoggerOptions({ destination: { write: (s) => { written.push(JSON.parse(s)) } } }) })
    await app.register(plugin)
    app.get('/hello/:name', async () => 'hi')
    await app.inject('/hello/ada')
    await app.close()
    const line = written.find((l) => l.message === 'request completed')
    return line ? line.route + ' ' + line.status_code : 'no request line'
  }
`

t.test('the built package loads from an ESM and a CommonJS consumer with the same named exports', async (t) => {
  const seen = loadAsConsumers('@o11y/logging', cwd)
  t.same(seen.cjs, EXPORTS)
  t.same(seen.esm, EXPORTS)
})

t.test('CommonJS: require(), .default and the named export all register the plugin', async (t) => {
  const result = run('commonjs', `
    const Fastify = require('fastify')
    ${probe}
    const logging = require('@o11y/logging')
    ;(async () => {
      const out = {
        kind: typeof logging,
        same: logging === logging.default && logging === logging.o11yLogging,
        require: await probe(Fastify, logging.fastifyLoggerOptions, require('@o11y/logging')),
        default: await probe(Fastify, logging.fastifyLoggerOptions, logging.default),
        named: await probe(Fastify, require('@o11y/logging').fastifyLoggerOptions, require('@o11y/logging').o11yLogging)
      }
      console.log(JSON.stringify(out))
    })()
  `)
  t.same(result, { kind: 'function', same: true, require: '/hello/:name 200', default: '/hello/:name 200', named: '/hello/:name 200' })
})

t.test('ESM: the default import, its .default and the named import all register the plugin', async (t) => {
  const result = run('module', `
    import Fastify from 'fastify'
    import logging, { o11yLogging, fastifyLoggerOptions } from '@o11y/logging'
    import { createRequire } from 'node:module'
    ${probe}
    const cjs = createRequire(process.cwd() + '/')('@o11y/logging')
    const out = {
      kind: typeof logging,
      same: logging === o11yLogging && logging.default === o11yLogging && cjs === o11yLogging,
      displayName: o11yLogging[Symbol.for('fastify.display-name')],
      require: await probe(Fastify, fastifyLoggerOptions, logging),
      default: await probe(Fastify, fastifyLoggerOptions, logging.default),
      named: await probe(Fastify, fastifyLoggerOptions, o11yLogging)
    }
    console.log(JSON.stringify(out))
  `)
  t.same(result, { kind: 'function', same: true, displayName: '@o11y/logging', require: '/hello/:name 200', default: '/hello/:name 200', named: '/hello/:name 200' })
})
