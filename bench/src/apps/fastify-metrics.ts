import type { BuildApp } from './types'

export const build: BuildApp = async (extraRoutes) => {
  const { default: Fastify } = require('fastify') as typeof import('fastify')
  const { default: fastifyMetrics } = require('fastify-metrics') as typeof import('fastify-metrics')
  const { addRoutes } = require('../routes') as typeof import('../routes')
  const app = Fastify({ logger: false })
  // Its defaults: /metrics, route histogram + summary, prom-client's default metrics.
  await app.register(fastifyMetrics, { endpoint: '/metrics' })
  addRoutes(app, extraRoutes)
  return { app }
}
