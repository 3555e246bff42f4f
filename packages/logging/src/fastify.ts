import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify'
import type { Logger } from 'pino'
import { LOG_FIELDS, REQUEST_ID_PATTERN } from './constants'
import { buildLogger } from './logger'
import { validateLoggerOptions, validateLogger, validateRequestIdHeader } from './options'
import type { LoggerOptions } from './options'
import { ERROR_CODES, LoggingError } from './errors'

/** Marks a logger whose request children already carry `request_id` (set by fastifyLoggerOptions). */
export const kRequestIdBound = Symbol.for('o11y.logging.requestIdBound')

export interface FastifyLoggerOptions extends LoggerOptions {
  /** Use this logger instead of creating one (then no other logger option may be given). */
  logger?: Logger
  /**
   * Header whose value becomes the request id when it is 1-128 characters of `[A-Za-z0-9._:/+=@-]`;
   * any other value (or none) gets a random UUID. `false`: always a random UUID. Default `x-request-id`.
   */
  requestIdHeader?: string | false
}

type LogControllerClass = NonNullable<FastifyServerOptions['logController']>

/** Server options to spread into `Fastify({ ... })`. */
export interface FastifyLoggingServerOptions {
  /**
   * A pino logger, typed as Fastify's base logger so that the app keeps the default
   * `FastifyInstance` type (functions typed `(app: FastifyInstance)` accept it).
   */
  loggerInstance: FastifyBaseLogger
  /** Fastify >= 5.12: request logging off, request id logged as `request_id`. */
  logController?: LogControllerClass
  /** Older Fastify 5 releases: the same settings as top-level options. */
  disableRequestLogging?: true
  requestIdLogLabel?: string
  requestIdHeader: false
  genReqId: (req: IncomingMessage) => string
}

function loadLogController (): (new (options: { disableRequestLogging: boolean, requestIdLogLabel: string }) => LogControllerClass) | undefined {
  // The peer dependency is loaded only here, when a Fastify app is being configured. Fastify
  // 5.12 deprecated the top-level disableRequestLogging / requestIdLogLabel options in favour
  // of a LogController (using them prints a deprecation warning per instance).
  const fastify = require('fastify') as { LogController?: new (options: object) => LogControllerClass }
  return fastify.LogController
}

/**
 * Fastify server options that make Fastify log through an @o11y/logging logger:
 * `{ loggerInstance, logController | disableRequestLogging, requestIdHeader: false, genReqId }`.
 * Fastify's own two request lines are turned off; register `o11yLogging` for the one line per
 * request. Every line written through `request.log` carries `request_id`.
 */
export function fastifyLoggerOptions (options: FastifyLoggerOptions = {}): FastifyLoggingServerOptions {
  const resolved = validateLoggerOptions(options, ['logger', 'requestIdHeader'], 'fastifyLoggerOptions')
  const header = validateRequestIdHeader(options.requestIdHeader)
  let parent: Logger
  if (options.logger !== undefined) {
    const others = Object.keys(options).filter((key) => key !== 'logger' && key !== 'requestIdHeader')
    if (others.length !== 0) {
      throw new LoggingError(ERROR_CODES.INVALID_OPTIONS, `option "logger" cannot be combined with ${others.map((k) => `"${k}"`).join(', ')}: configure the logger where it is created`)
    }
    parent = validateLogger(options.logger)
  } else {
    parent = buildLogger(resolved)
  }
  // A child (free: no bindings) so that marking it does not touch the caller's logger.
  const loggerInstance = parent.child({})
  ;(loggerInstance as unknown as Record<symbol, unknown>)[kRequestIdBound] = true

  const genReqId = header === false
    ? function o11yGenReqId (): string { return randomUUID() }
    : function o11yGenReqId (req: IncomingMessage): string {
      const incoming = req.headers[header]
      return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID()
    }

  const settings = { disableRequestLogging: true, requestIdLogLabel: LOG_FIELDS.requestId } as const
  const LogController = loadLogController()
  if (LogController !== undefined) {
    return { loggerInstance, logController: new LogController(settings), requestIdHeader: false, genReqId }
  }
  /* c8 ignore next 2 - Fastify releases before 5.12 */
  return { loggerInstance, ...settings, requestIdHeader: false, genReqId }
}
