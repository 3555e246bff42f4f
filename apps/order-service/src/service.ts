import type { FastifyInstance } from 'fastify'
import { buildApp } from './app.js'
import { flushLogs } from '@o11y/logging'
import { loadConfig, type ServiceConfig } from './config.js'
import { ENV, ROUTES } from './constants.js'
import { createDatabase, type Database } from './db/database.js'
import { EMBEDDED_POOL_MAX, startEmbeddedPostgres, type EmbeddedPostgres } from './db/embedded.js'

export interface RunningService {
  app: FastifyInstance
  db: Database
  embedded: EmbeddedPostgres | undefined
  /** http://host:port */
  url: string
  /** Where Prometheus scrapes: the app's /metrics, or the metrics port's (METRICS_PORT). */
  metricsUrl: string
  /** Graceful shutdown; idempotent. Resolves when everything is closed. */
  shutdown (reason?: string): Promise<void>
}

export interface StartOptions {
  config?: ServiceConfig
  /** Where the human-readable start-up text goes (default stdout). */
  print?: (text: string) => void
  /** Flushes telemetry (spans) at the end of shutdown. */
  flushTelemetry?: () => Promise<void>
  /** Set in a node:cluster worker (`--workers N`): metrics answer for every worker, log lines carry `worker`. */
  clusterWorker?: number
}

export const DEFAULT_POOL_MAX = 10

/** Starts the database (embedded unless DATABASE_URL), migrates it, builds the app and listens. */
export async function startService (options: StartOptions = {}): Promise<RunningService> {
  const config = options.config ?? loadConfig()
  const print = options.print ?? ((text: string) => process.stdout.write(text))
  let embedded: EmbeddedPostgres | undefined
  if (!config.databaseUrl) {
    print(`starting embedded PostgreSQL (PGlite), data in ${config.dataDir} ...\n`)
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir })
  }
  const db = createDatabase({
    connectionString: config.databaseUrl ?? (embedded as EmbeddedPostgres).url,
    schema: config.dbSchema,
    max: config.dbPoolMax ?? (embedded ? EMBEDDED_POOL_MAX : DEFAULT_POOL_MAX),
    connectTimeoutMs: config.dbConnectTimeoutMs,
    statementTimeoutMs: config.dbStatementTimeoutMs
  })
  let app: FastifyInstance | undefined
  try {
    await db.migrate()
    app = await buildApp({
      db,
      payment: { latencyMs: config.paymentLatencyMs, failureRate: config.paymentFailureRate },
      logger: { level: config.logLevel, ...(options.clusterWorker !== undefined ? { base: { worker: options.clusterWorker } } : {}) },
      metrics: {
        ...(options.clusterWorker !== undefined ? { cluster: true } : {}),
        endpoint: {
          ...(config.metricsPort !== undefined ? { port: config.metricsPort, host: config.metricsHost } : {}),
          ...(config.metricsToken !== undefined ? { auth: { type: 'bearer', token: config.metricsToken } } : {}),
          minIntervalMs: config.metricsMinIntervalMs
        }
      }
    })
    db.pool.removeAllListeners('error')
    db.pool.on('error', (err) => app?.log.warn({ err }, 'idle database connection lost'))
    await app.listen({ port: config.port, host: config.host })
  } catch (err) {
    await app?.close()
    await db.close()
    await embedded?.stop()
    throw err
  }
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  const url = httpUrl(config.host, port)
  const metricsAddress = app.metrics.address()
  const metricsUrl = `${metricsAddress !== null ? httpUrl(config.metricsHost, metricsAddress.port) : url}${ROUTES.metrics}`
  print(banner(url, embedded ? `embedded PostgreSQL (PGlite), data in ${embedded.dataDir}` : 'PostgreSQL from DATABASE_URL', { url: metricsUrl, token: config.metricsTokenSource }))
  print(`order-service listening on ${url}\n`)

  let closing: Promise<void> | undefined
  const running: RunningService = {
    app,
    db,
    embedded,
    url,
    metricsUrl,
    shutdown (reason = 'shutdown') {
      closing ??= shutdown(running, config.shutdownGraceMs, reason, options.flushTelemetry)
      return closing
    }
  }
  return running
}

async function shutdown (service: RunningService, graceMs: number, reason: string, flushTelemetry?: () => Promise<void>): Promise<void> {
  const { app, db, embedded } = service
  app.log.info({ reason, grace_ms: graceMs }, 'shutting down: no new connections, finishing in-flight requests')
  // app.close() stops accepting and waits for in-flight requests; past the grace period the
  // remaining connections are cut so that shutdown always ends.
  const timer = setTimeout(() => {
    app.log.warn({ grace_ms: graceMs }, 'grace period over: closing the remaining connections')
    app.server.closeAllConnections()
  }, graceMs)
  try {
    await app.close()
  } finally {
    clearTimeout(timer)
  }
  await db.close()
  await flushTelemetry?.().catch((err: unknown) => app.log.warn({ err }, 'flushing spans failed'))
  await embedded?.stop()
  app.log.info('shutdown complete')
  // OTLP log records written since app.close() (its onClose already flushed the rest), bounded.
  await flushLogs(app.log as unknown as Parameters<typeof flushLogs>[0], { shutdown: true })
  const log = app.log as { flush?: (cb: (err?: Error) => void) => void }
  await new Promise<void>((resolve) => (log.flush ? log.flush(() => resolve()) : resolve()))
}

function httpUrl (host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}

export function banner (url: string, database: string, metrics: { url: string, token?: 'env' | 'file' | undefined } = { url: `${url}${ROUTES.metrics}` }): string {
  // The token itself is never printed: the command reads it from the environment or the file.
  const auth = metrics.token === 'env'
    ? `-H "authorization: Bearer $${ENV.metricsToken}" `
    : metrics.token === 'file' ? `-H "authorization: Bearer $(cat "$${ENV.metricsTokenFile}")" ` : ''
  const body = JSON.stringify({ customerId: 'c-42', currency: 'EUR', items: [{ sku: 'BOOK-1', quantity: 2, unitPriceCents: 1250 }] })
  return [
    '',
    `order-service on ${database}`,
    '',
    'Try:',
    `  curl -s -X POST ${url}${ROUTES.orders} -H 'content-type: application/json' -d '${body}'`,
    `  curl -s '${url}${ROUTES.orders}?customerId=c-42&limit=5'`,
    `  curl -s ${url}${ROUTES.orders}/<id>                 # id from the create answer`,
    `  curl -s -X POST ${url}${ROUTES.orders}/<id>/checkout`,
    `  curl -s -X POST ${url}${ROUTES.orders}/<id>/cancel`,
    `  curl -s ${url}${ROUTES.health}`,
    `  curl -s ${url}${ROUTES.ready}`,
    `  curl -s ${auth}${metrics.url}`,
    `  curl -s ${auth}-H 'accept: application/openmetrics-text' ${metrics.url}   # with trace exemplars`,
    `  pnpm loadgen -- --url ${url} --duration 30 --rate 20`,
    '',
    ''
  ].join('\n')
}
