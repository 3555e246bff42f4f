import type { BuildApp } from './types'

export const build: BuildApp = async (extraRoutes) => {
  const { default: Fastify } = require('fastify') as typeof import('fastify')
  const { fastifyLoggerOptions, o11yLogging } = require('@o11y/logging') as typeof import('@o11y/logging')
  const { addRoutes } = require('../routes') as typeof import('../routes')
  const app = Fastify({ ...fastifyLoggerOptions({ name: 'bench', level: 'info', destination: '/dev/null' }) })
  await app.register(o11yLogging)
  addRoutes(app, extraRoutes)
  return { app }
}
