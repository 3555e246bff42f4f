import type { BuildApp } from './types'

/** A cluster worker (see cluster-server.ts): @o11y/metrics with its defaults plus `cluster: true`. */
export const build: BuildApp = async (extraRoutes) => {
  const { default: Fastify } = require('fastify') as typeof import('fastify')
  const { o11yMetrics } = require('@o11y/metrics') as typeof import('@o11y/metrics')
  const { addRoutes } = require('../routes') as typeof import('../routes')
  const { CLUSTER_LABEL_SETS_ENV } = require('../cluster-server') as typeof import('../cluster-server')
  const app = Fastify({ logger: false })
  await app.register(o11yMetrics, { cluster: true })
  addRoutes(app, extraRoutes)
  const sets = Number(process.env[CLUSTER_LABEL_SETS_ENV] ?? '0')
  if (sets > 0) {
    const c = app.metrics.counter({ name: 'bench_label_sets_total', help: 'Label sets for the cluster scrape measurement.', labelNames: ['set'] })
    for (let i = 0; i < sets; i++) c.inc({ set: String(i) })
  }
  return { app }
}
