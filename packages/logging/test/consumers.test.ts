import t from 'tap'
import { join } from 'node:path'
import { loadAsConsumers } from '@o11y/test-utils'

const EXPORTS = [
  'DEFAULT_CENSOR',
  'DEFAULT_REDACT_PATHS',
  'ERROR_CODES',
  'LEVELS',
  'LOG_FIELDS',
  'LoggingError',
  'REDACT_MAX_DEPTH',
  'REQUEST_COMPLETED_MESSAGE',
  'UNMATCHED_ROUTE',
  'createLogger',
  'fastifyLoggerOptions',
  'getLogger',
  'o11yLogging'
]

t.test('the built package loads from an ESM and a CommonJS consumer with the same named exports', async (t) => {
  const seen = loadAsConsumers('@o11y/logging', join(__dirname, '..'))
  t.same(seen.cjs, EXPORTS)
  t.same(seen.esm, EXPORTS)
})
