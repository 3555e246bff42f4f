export { createLogger, getLogger } from './logger'
export type { Logger } from './logger'
export { fastifyLoggerOptions } from './fastify'
export type { FastifyLoggerOptions, FastifyLoggingServerOptions } from './fastify'
export { o11yLogging } from './plugin'
export type { O11yLoggingOptions } from './plugin'
export type { LoggerOptions, RedactOptions, Destination, Level } from './options'
export {
  LOG_FIELDS,
  DEFAULT_REDACT_PATHS,
  DEFAULT_CENSOR,
  REDACT_MAX_DEPTH,
  REQUEST_COMPLETED_MESSAGE,
  UNMATCHED_ROUTE,
  LEVELS
} from './constants'
export { ERROR_CODES, LoggingError } from './errors'
export type { LoggingErrorCode } from './errors'
