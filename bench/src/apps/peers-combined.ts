import { startPeerSdk } from './otel-sdk'
import type { BuildApp } from './types'

export const build: BuildApp = async (extraRoutes) => {
  const sdk = startPeerSdk(true)
  const { default: Fastify } = require('fastify') as typeof import('fastify')
  const { default: fastifyMetrics } = require('fastify-metrics') as typeof import('fastify-metrics')
  const { addRoutes } = require('../routes') as typeof import('../routes')
  const app = Fastify({ logger: { level: 'info', file: '/dev/null' } })
  await app.register(fastifyMetrics, { endpoint: '/metrics' })
  addRoutes(app, extraRoutes)
  return { app, stats: async () => { await sdk.forceFlush(); return { spansExported: sdk.exporter.exported } }, shutdown: sdk.shutdown }
}
