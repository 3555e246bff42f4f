import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify'
import type { Logger } from 'pino'
import { LOG_FIELDS, REQUEST_ID_PATTERN } from './constants'
import { buildLogger, requestLogger } from './logger'
import { validateLoggerOptions, validateLogger, validateRequestIdHeader } from './options'
import type { FastifyLoggerOptions, FastifyLoggingServerOptions } from './types'
import { ERROR_CODES, LoggingError } from './errors'

/** Marks a logger whose request children already carry `request_id` (set by fastifyLoggerOptions). */
export const kRequestIdBound = Symbol.for('o11y.logging.requestIdBound')

type LogControllerClass = NonNullable<FastifyServerOptions['logController']>

function loadLogController (): (new (options: { disableRequestLogging: boolean, requestIdLogLabel: string }) => LogControllerClass) | undefined {
  // The peer dependency is loaded only here, when a Fastify app is being configured. Fastify
  // 5.12 deprecated the top-level disableRequestLogging / requestIdLogLabel options in favour
  // of a LogController (using them prints a deprecation warning per instance).
  const fastify = require('fastify') as { LogController?: new (options: object) => LogControllerClass }
  return fastify.LogController
}

/**
 * Fastify's `childLoggerFactory`: the logger of each request, `request_id` bound. A pino child per
 * request was a visible share of a request's cost; requestLogger makes the same logger (same
 * bindings text, same prototype chain) without it. Route options (`logLevel`, `logSerializers`),
 * a request id label other than `request_id` or a logger this package cannot read get pino's child.
 */
function o11yChildLoggerFactory (logger: FastifyBaseLogger, bindings: Record<string, unknown>, options: object): FastifyBaseLogger {
  if (isEmpty(options)) {
    const child = requestLogger(logger, bindings[LOG_FIELDS.requestId])
    if (child !== null) return child as unknown as FastifyBaseLogger
  }
  return logger.child(bindings, options)
}

function isEmpty (options: object): boolean {
  for (const _key in options) return false
  return true
}

/**
 * Fastify server options that make Fastify log through an @o11y/logging logger:
 * `{ loggerInstance, logController | disableRequestLogging, requestIdHeader: false, genReqId, childLoggerFactory }`.
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
    return { loggerInstance, logController: new LogController(settings), requestIdHeader: false, genReqId, childLoggerFactory: o11yChildLoggerFactory }
  }
  /* c8 ignore next 2 - Fastify releases before 5.12 */
  return { loggerInstance, ...settings, requestIdHeader: false, genReqId, childLoggerFactory: o11yChildLoggerFactory }
}
