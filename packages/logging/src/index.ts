import { o11yLogging } from './plugin'

export { o11yLogging } from './plugin'
export { createLogger, flushLogs, getLogger, loggingStats } from './logger'
export { fastifyLoggerOptions } from './fastify'
export {
  LOG_FIELDS,
  DEFAULT_REDACT_PATHS,
  DEFAULT_CENSOR,
  DEFAULT_MAX_BUFFER_LENGTH,
  DEFAULT_MAX_LINE_BYTES,
  DROPPED_LINES_READER,
  REDACT_MAX_DEPTH,
  REQUEST_COMPLETED_MESSAGE,
  TRUNCATION_MARKER,
  UNMATCHED_ROUTE,
  LEVELS,
  OTLP_DEFAULTS,
  SEVERITY_NUMBERS
} from './constants'
export { ERROR_CODES, ERROR_MESSAGES, LoggingError } from './errors'
export type { LoggingErrorCode } from './errors'
export type {
  Logger,
  LoggerOptions,
  RedactOptions,
  Destination,
  Level,
  LineLevel,
  LoggingStats,
  OtlpOptions,
  OtlpProtocol,
  FastifyLoggerOptions,
  FastifyLoggingServerOptions,
  O11yLoggingOptions
} from './types'

export default o11yLogging

// The `@fastify/*` export shape: `require('@o11y/logging')` is the plugin itself, so
// `app.register(require('@o11y/logging'))` works, with `.default`, `.o11yLogging` (both set by
// fastify-plugin) and every other export above as properties (copied from `exports`, so the
// list is written once). The types above describe the same object; dist/index.mjs
// (scripts/esm-wrapper.cjs) gives ESM importers the plugin as default export.
module.exports = Object.assign(o11yLogging, exports)
