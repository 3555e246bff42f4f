import type { BuildApp } from './types'

export const DEV_NULL = '/dev/null'

export const build: BuildApp = async (extraRoutes) => {
  const { default: Fastify } = require('fastify') as typeof import('fastify')
  const { addRoutes } = require('../routes') as typeof import('../routes')
  // Fastify's own pino logger: "incoming request" and "request completed" per request.
  const app = Fastify({ logger: { level: 'info', file: DEV_NULL } })
  addRoutes(app, extraRoutes)
  return { app }
}
