import { startO11yTracing } from './o11y-tracing-setup'
import type { BuildApp } from './types'

export const build: BuildApp = async (extraRoutes) => {
  const tracing = startO11yTracing()
  const { default: Fastify } = require('fastify') as typeof import('fastify')
  const { o11yTracing } = require('@o11y/tracing') as typeof import('@o11y/tracing')
  const { fastifyLoggerOptions, o11yLogging } = require('@o11y/logging') as typeof import('@o11y/logging')
  const { o11yMetrics } = require('@o11y/metrics') as typeof import('@o11y/metrics')
  const { addRoutes } = require('../routes') as typeof import('../routes')
  // The order in which the demo order service registers them.
  const app = Fastify({ ...fastifyLoggerOptions({ name: 'bench', level: 'info', destination: '/dev/null' }) })
  await app.register(o11yTracing)
  await app.register(o11yLogging)
  await app.register(o11yMetrics)
  addRoutes(app, extraRoutes)
  return { app, stats: tracing.stats, shutdown: tracing.shutdown }
}
