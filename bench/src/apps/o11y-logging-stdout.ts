import type { BuildApp } from './types'

export const build: BuildApp = async (extraRoutes) => {
  const { default: Fastify } = require('fastify') as typeof import('fastify')
  const { fastifyLoggerOptions, loggingStats, o11yLogging } = require('@o11y/logging') as typeof import('@o11y/logging')
  const { addRoutes } = require('../routes') as typeof import('../routes')
  // The default destination: stdout (a pipe read by the runner).
  const app = Fastify({ ...fastifyLoggerOptions({ name: 'bench', level: 'info' }) })
  await app.register(o11yLogging)
  addRoutes(app, extraRoutes)
  return {
    app,
    stats: async () => {
      const l = loggingStats(app.log as unknown as Parameters<typeof loggingStats>[0])
      return { linesWritten: l?.written ?? 0, linesDropped: l?.dropped ?? 0 }
    }
  }
}
