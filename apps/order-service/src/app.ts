import { STATUS_CODES } from 'node:http'
import { SpanStatusCode, trace } from '@opentelemetry/api'
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify'
import { fastifyLoggerOptions, o11yLogging } from '@o11y/logging'
import { o11yMetrics } from '@o11y/metrics'
import { o11yTracing } from '@o11y/tracing'
import { METRICS, ORDER_VALUE_BUCKETS, PAYMENT_FAILURE_OTHER, PAYMENT_FAILURE_REASONS, ROUTES, SERVICE_NAME } from './constants.js'
import { DatabaseError, type Database } from './db/database.js'
import type { BusinessMetrics } from './orders/checkout.js'
import { HttpError } from './orders/errors.js'
import { createSimulatedProvider, type PaymentProvider, type SimulatedProviderOptions } from './orders/payment.js'
import { createOrderRepository } from './orders/repository.js'
import { orderRoutes } from './orders/routes.js'

export interface BuildAppOptions {
  /** Migrated database; the caller owns it (closes it after the app). */
  db: Database
  /** A provider, or the settings of the simulated one. */
  payment?: PaymentProvider | SimulatedProviderOptions
  /** Options of @o11y/logging's fastifyLoggerOptions (level, destination, ...). */
  logger?: Parameters<typeof fastifyLoggerOptions>[0]
  /** Options of @o11y/metrics. */
  metrics?: Parameters<typeof o11yMetrics>[1]
}

export const SAFE_DB_MESSAGE = 'database unavailable, try again later'

function isProvider (p: BuildAppOptions['payment']): p is PaymentProvider {
  return typeof (p as PaymentProvider | undefined)?.charge === 'function'
}

const KNOWN_REASONS: ReadonlySet<string> = new Set(PAYMENT_FAILURE_REASONS)

/** 'card declined' -> 'card_declined'; a reason the provider invents later is 'other' (bounded label). */
export function failureReason (reason: string | undefined): string {
  const code = (reason ?? '').trim().toLowerCase().replace(/[^a-z0-9]+/g, '_')
  return KNOWN_REASONS.has(code) ? code : PAYMENT_FAILURE_OTHER
}

export async function buildApp (options: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...fastifyLoggerOptions({ name: SERVICE_NAME, ...options.logger }),
    // Reject unknown fields (schemas say additionalProperties: false) instead of dropping them.
    ajv: { customOptions: { removeAdditional: false, allErrors: false } }
  })

  await app.register(o11yTracing)
  await app.register(o11yLogging)
  await app.register(o11yMetrics, options.metrics ?? {})

  // prom-client's own exemplars need an OpenMetrics registry, which @o11y/metrics does not use (it
  // renders both formats itself, with exemplars on the request series): plain calls here.
  const ordersCreated = app.metrics.counter({ name: METRICS.ordersCreated, help: 'Orders created.', labelNames: [] })
  const paymentsProcessed = app.metrics.counter({ name: METRICS.paymentsProcessed, help: 'Payments charged, by outcome (succeeded, failed) and currency.', labelNames: ['status', 'currency'] })
  const orderValue = app.metrics.histogram({ name: METRICS.orderValue, help: 'Value of paid orders in cents of their currency.', labelNames: ['currency'], buckets: ORDER_VALUE_BUCKETS })
  const paymentFailures = app.metrics.counter({ name: METRICS.paymentFailures, help: `Failed payments by the provider's reason (${PAYMENT_FAILURE_REASONS.join(', ')}, ${PAYMENT_FAILURE_OTHER}).`, labelNames: ['reason'] })
  const metrics: BusinessMetrics = {
    orderCreated: () => ordersCreated.inc(),
    paymentProcessed: (status, currency, reason) => {
      paymentsProcessed.inc({ status, currency })
      if (status === 'failed') paymentFailures.inc({ reason: failureReason(reason) })
    },
    orderPaid: (order) => orderValue.observe({ currency: order.currency }, order.totalCents)
  }

  const provider = isProvider(options.payment)
    ? options.payment
    : createSimulatedProvider(options.payment ?? { latencyMs: 0, failureRate: 0 })
  const { db } = options

  app.setErrorHandler(function orderServiceErrorHandler (err: FastifyError, request, reply) {
    if (err.validation) {
      return reply.code(400).send({ statusCode: 400, error: STATUS_CODES[400], code: 'VALIDATION_FAILED', message: err.message })
    }
    if (err instanceof HttpError) {
      // An expected upstream failure (a declined payment): worth a line, not a stack trace.
      if (err.statusCode >= 500) request.log.warn({ code: err.code }, err.message)
      return reply.code(err.statusCode).send({ statusCode: err.statusCode, error: STATUS_CODES[err.statusCode], code: err.code, message: err.message })
    }
    const span = trace.getActiveSpan()
    if (err instanceof DatabaseError) {
      // The cause (SQL, host, driver message) is for the log and the span, never for the client.
      request.log.error({ err: err.cause ?? err }, 'database unavailable')
      span?.recordException(err.cause instanceof Error ? err.cause : err)
      span?.setStatus({ code: SpanStatusCode.ERROR, message: err.message })
      return reply.code(503).header('retry-after', '1').send({ statusCode: 503, error: STATUS_CODES[503], code: 'DATABASE_UNAVAILABLE', message: SAFE_DB_MESSAGE })
    }
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify's own client errors (bad JSON, wrong content type, body too large): their messages are safe.
      return reply.code(err.statusCode).send({ statusCode: err.statusCode, error: STATUS_CODES[err.statusCode], code: err.code ?? 'BAD_REQUEST', message: err.message })
    }
    request.log.error({ err }, 'unhandled error')
    span?.recordException(err)
    span?.setStatus({ code: SpanStatusCode.ERROR, message: err.message })
    return reply.code(500).send({ statusCode: 500, error: STATUS_CODES[500], code: 'INTERNAL', message: 'internal server error' })
  })

  app.get(ROUTES.health, async function health () {
    return { status: 'ok' }
  })

  app.get(ROUTES.ready, async function ready (request, reply) {
    try {
      await db.ping()
      return { status: 'ready', checks: { database: 'up' } }
    } catch (err) {
      request.log.warn({ err: (err as DatabaseError).cause ?? err }, 'not ready: database unreachable')
      return reply.code(503).send({ status: 'unavailable', checks: { database: 'down' } })
    }
  })

  await app.register(orderRoutes, { repo: createOrderRepository(db), provider, metrics })
  // Widened from Fastify<pino.Logger> to the default instance type callers and tests expect.
  return app as unknown as FastifyInstance
}
