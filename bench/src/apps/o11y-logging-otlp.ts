import { startOtlpSink } from '../otlp-sink'
import type { BuildApp } from './types'

/**
 * o11y-logging-stdout plus OTLP log export with the package's default batching (http/protobuf)
 * into an in-process sink that reads each export and answers 200 (counted in the server's CPU).
 */
export const build: BuildApp = async (extraRoutes) => {
  const { default: Fastify } = require('fastify') as typeof import('fastify')
  const { fastifyLoggerOptions, loggingStats, o11yLogging } = require('@o11y/logging') as typeof import('@o11y/logging')
  const { addRoutes } = require('../routes') as typeof import('../routes')
  const sink = await startOtlpSink()
  const app = Fastify({ ...fastifyLoggerOptions({ name: 'bench', level: 'info', otlp: { endpoint: `${sink.url}/v1/logs`, protocol: 'http/protobuf' } }) })
  await app.register(o11yLogging)
  addRoutes(app, extraRoutes)
  return {
    app,
    stats: async () => {
      const s = sink.stats()
      const l = loggingStats(app.log as unknown as Parameters<typeof loggingStats>[0])
      return {
        linesWritten: l?.written ?? 0,
        linesDropped: l?.dropped ?? 0,
        otlpLogExports: s.exports,
        otlpLogBytes: s.bytes,
        otlpLogRecordsExported: l?.otlpExported ?? 0,
        otlpLogRecordsDropped: l?.otlpDropped ?? 0,
        otlpLogRecordsFailed: l?.otlpFailed ?? 0
      }
    },
    shutdown: () => sink.close()
  }
}
