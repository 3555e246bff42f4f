import { startO11yTracing } from './o11y-tracing-setup'
import type { BuildApp } from './types'

/** o11y-tracing with @fastify/otel's request and handler spans on: three spans per request. */
export const build: BuildApp = async (extraRoutes) => {
  const tracing = startO11yTracing({ lifecycleSpans: true })
  const { default: Fastify } = require('fastify') as typeof import('fastify')
  const { o11yTracing } = require('@o11y/tracing') as typeof import('@o11y/tracing')
  const { addRoutes } = require('../routes') as typeof import('../routes')
  const app = Fastify({ logger: false })
  await app.register(o11yTracing)
  addRoutes(app, extraRoutes)
  return { app, stats: tracing.stats, shutdown: tracing.shutdown }
}
