import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import {
  DEFAULT_CLIENT_ERROR_LEVEL,
  LOG_FIELDS,
  PLUGIN_NAME,
  REQUEST_COMPLETED_MESSAGE,
  UNMATCHED_ROUTE
} from './constants'
import { kRequestIdBound } from './fastify'
import { assertKnownOptions, assertOptionsObject, validateLevel } from './options'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false`: the o11yLogging plugin writes no request line for this route. */
    logging?: boolean
  }
}

type LineLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'

export interface O11yLoggingOptions {
  /** Level of the request line for 4xx responses. Default `info` (5xx: always `error`). */
  clientErrorLevel?: LineLevel
}

const kError = Symbol('o11y.logging.error')
const kRegistered = Symbol.for('o11y.logging.registered')

type RequestWithError = FastifyRequest & { [kError]: Error | null }

function validatePluginOptions (options: unknown): LineLevel {
  assertOptionsObject(options, 'o11yLogging')
  assertKnownOptions(options, ['clientErrorLevel'], 'o11yLogging')
  return options.clientErrorLevel === undefined
    ? DEFAULT_CLIENT_ERROR_LEVEL
    : validateLevel(options.clientErrorLevel, 'clientErrorLevel', ['trace', 'debug', 'info', 'warn', 'error', 'fatal']) as LineLevel
}

function o11yLoggingPlugin (fastify: FastifyInstance, options: O11yLoggingOptions, done: (err?: Error) => void): void {
  let clientErrorLevel: LineLevel
  try {
    clientErrorLevel = validatePluginOptions(options)
  } catch (error) {
    return done(error as Error)
  }

  // fastify-plugin skips a second registration of the same name in one instance tree; this guard
  // also covers two copies of this package loaded side by side.
  if (fastify.hasDecorator(kRegistered)) return done()
  fastify.decorate(kRegistered, true)

  // The logger from fastifyLoggerOptions already binds request_id to every request child.
  const requestIdBound = (fastify.log as unknown as Record<symbol, unknown>)[kRequestIdBound] === true

  fastify.decorateRequest(kError, null)

  fastify.addHook('onError', function o11yLoggingCaptureError (request: FastifyRequest, _reply: FastifyReply, error: Error, next: HookHandlerDoneFunction) {
    (request as RequestWithError)[kError] = error
    next()
  })

  fastify.addHook('onResponse', function o11yLoggingRequestLine (request: FastifyRequest, reply: FastifyReply, next: HookHandlerDoneFunction) {
    const route = request.routeOptions
    if (route.config?.logging === false) return next()
    const status = reply.statusCode
    const line: Record<string, unknown> = {
      [LOG_FIELDS.route]: route.url ?? UNMATCHED_ROUTE,
      [LOG_FIELDS.method]: request.method,
      [LOG_FIELDS.statusCode]: status,
      [LOG_FIELDS.responseTimeMs]: Math.round(reply.elapsedTime * 1000) / 1000
    }
    if (!requestIdBound) line[LOG_FIELDS.requestId] = request.id
    const error = (request as RequestWithError)[kError]
    if (error !== null) line[LOG_FIELDS.error] = error
    if (status >= 500) request.log.error(line, REQUEST_COMPLETED_MESSAGE)
    else if (status >= 400) request.log[clientErrorLevel](line, REQUEST_COMPLETED_MESSAGE)
    else request.log.info(line, REQUEST_COMPLETED_MESSAGE)
    next()
  })

  done()
}

/**
 * Fastify plugin: one log line per request, written when the response has been sent, with
 * `route`, `method`, `status_code`, `response_time_ms`, `request_id` and (through the logger's
 * mixin) the trace ids of the request's span. 5xx at `error` with the error serialized as `err`,
 * 4xx at `clientErrorLevel`, the rest at `info`. `config: { logging: false }` opts a route out.
 */
export const o11yLogging = fp(o11yLoggingPlugin, { fastify: '5.x', name: PLUGIN_NAME })
