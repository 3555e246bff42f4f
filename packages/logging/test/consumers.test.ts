import t from 'tap'
import { join } from 'node:path'
import { loadAsConsumers, pluginShapes } from '@o11y/test-utils'

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

/**
 * Registers `plugin` on an app that logs into memory (with the module's own logger options),
 * answers one request and returns the request line's route and status.
 */
const probe = `
  async function probe (Fastify, mod, plugin) {
    const written = []
    const app = Fastify({ ...mod.fastifyLoggerOptions({ destination: { write: (s) => { written.push(JSON.parse(s)) } } }) })
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

t.test('require(), .default and the named export all register the plugin, from CommonJS and from ESM (one instance)', async (t) => {
  const shapes = pluginShapes('@o11y/logging', 'o11yLogging', probe, cwd)
  const expected = { kind: 'function', same: true, displayName: '@o11y/logging', require: '/hello/:name 200', default: '/hello/:name 200', named: '/hello/:name 200' }
  t.same(shapes.commonjs, expected, 'CommonJS')
  t.same(shapes.module, expected, 'ESM')
})
