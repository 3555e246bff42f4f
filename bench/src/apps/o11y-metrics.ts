import type { BuildApp } from './types'

export const build: BuildApp = async (extraRoutes) => {
  const { default: Fastify } = require('fastify') as typeof import('fastify')
  const { o11yMetrics } = require('@o11y/metrics') as typeof import('@o11y/metrics')
  const { addRoutes } = require('../routes') as typeof import('../routes')
  const app = Fastify({ logger: false })
  await app.register(o11yMetrics)
  addRoutes(app, extraRoutes)
  return { app }
}
