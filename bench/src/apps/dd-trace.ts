import { channel } from 'node:diagnostics_channel'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BuildApp } from './types'

/**
 * Datadog's tracer as its README starts it (before fastify and http are loaded), with its http
 * and fastify integrations, every trace kept (sampleRate 1), and the parts that are not
 * per-request tracing off: runtime metrics, profiling, telemetry, remote configuration, crash
 * tracking. No agent: its URL is a Unix socket path that does not exist, so traces are encoded
 * as usual (msgpack, on span finish) and each flush (every 2 s, the default) fails at once with
 * ENOENT; nothing retries.
 */
export const build: BuildApp = async (extraRoutes) => {
  Object.assign(process.env, {
    DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false',
    DD_REMOTE_CONFIGURATION_ENABLED: 'false',
    DD_CRASHTRACKING_ENABLED: 'false',
    DD_TRACE_STARTUP_LOGS: 'false'
  })
  const tracer = (require('dd-trace') as typeof import('dd-trace')).default
  tracer.init({
    service: 'bench',
    url: `unix://${join(tmpdir(), `o11y-bench-no-agent-${process.pid}.sock`)}`,
    sampleRate: 1,
    runtimeMetrics: false,
    profiling: false,
    startupLogs: false
  })
  // Spans finished, from the tracer's own diagnostics channel (published on every finish).
  let finished = 0
  channel('dd-trace:span:finish').subscribe(() => { finished++ })
  const { default: Fastify } = require('fastify') as typeof import('fastify')
  const { addRoutes } = require('../routes') as typeof import('../routes')
  const app = Fastify({ logger: false })
  addRoutes(app, extraRoutes)
  return { app, stats: async () => ({ spansExported: finished }) }
}
