import type { BuildApp } from './types'

export const build: BuildApp = async (extraRoutes) => {
  const { default: Fastify } = require('fastify') as typeof import('fastify')
  const { addRoutes } = require('../routes') as typeof import('../routes')
  // Fastify's own pino logger with pino's default destination: stdout (a pipe read by the runner).
  const app = Fastify({ logger: { level: 'info' } })
  addRoutes(app, extraRoutes)
  return { app }
}
