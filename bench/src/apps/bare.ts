import type { BuildApp } from './types'

export const build: BuildApp = async (extraRoutes) => {
  const { default: Fastify } = require('fastify') as typeof import('fastify')
  const { addRoutes } = require('../routes') as typeof import('../routes')
  const app = Fastify({ logger: false })
  addRoutes(app, extraRoutes)
  return { app }
}
