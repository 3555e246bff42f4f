import { startOtlpSink } from '../otlp-sink'
import type { BuildApp } from './types'

/** Push interval of the scenario: far shorter than the 60 s default, so exports happen during every measurement. */
export const OTLP_BENCH_INTERVAL_MS = 1000

/**
 * @o11y/metrics with the OTLP push mode on (http/protobuf, every second) beside /metrics, into an
 * in-process sink that reads each export and answers 200 (counted in the server's CPU: an upper
 * bound of push mode's cost).
 */
export const build: BuildApp = async (extraRoutes) => {
  const { default: Fastify } = require('fastify') as typeof import('fastify')
  const { o11yMetrics } = require('@o11y/metrics') as typeof import('@o11y/metrics')
  const { addRoutes } = require('../routes') as typeof import('../routes')
  const sink = await startOtlpSink()
  const app = Fastify({ logger: false })
  await app.register(o11yMetrics, { otlp: { endpoint: `${sink.url}/v1/metrics`, protocol: 'http/protobuf', intervalMillis: OTLP_BENCH_INTERVAL_MS, timeoutMillis: OTLP_BENCH_INTERVAL_MS } })
  addRoutes(app, extraRoutes)
  return {
    app,
    stats: async () => {
      const s = sink.stats()
      return { otlpMetricExports: s.exports, otlpMetricBytes: s.bytes }
    },
    shutdown: () => sink.close()
  }
}
