import { startPeerSdk } from './otel-sdk'
import type { BuildApp } from './types'

export const build: BuildApp = async (extraRoutes) => {
  const sdk = startPeerSdk(false)
  const { default: Fastify } = require('fastify') as typeof import('fastify')
  const { addRoutes } = require('../routes') as typeof import('../routes')
  const app = Fastify({ logger: false })
  addRoutes(app, extraRoutes)
  return { app, stats: async () => { await sdk.forceFlush(); return { spansExported: sdk.exporter.exported } }, shutdown: sdk.shutdown }
}
