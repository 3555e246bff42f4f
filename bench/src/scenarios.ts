/**
 * The scenarios of the benchmark. Each one runs in its own server process (`dist/server.js <id>`)
 * built by `apps/<id>.ts`; this module only names them, so the runner never loads their packages.
 */
export interface Scenario {
  id: ScenarioId
  /** Column label in the tables. */
  label: string
  /** What runs in the server. */
  description: string
  /** Peers or ours (bare is the reference). */
  group: 'reference' | 'peers' | 'o11y'
  /** Serves Prometheus metrics on GET /metrics. */
  metrics: boolean
  /** Exports spans into the counting exporter. */
  tracing: boolean
}

export type ScenarioId =
  | 'bare' | 'fastify-metrics' | 'otel-peers' | 'pino' | 'peers-combined'
  | 'o11y-metrics' | 'o11y-tracing' | 'o11y-logging' | 'o11y-full'

export const SCENARIOS: readonly Scenario[] = [
  { id: 'bare', label: 'bare Fastify', group: 'reference', metrics: false, tracing: false, description: 'Fastify 5, logger off: the reference' },
  { id: 'fastify-metrics', label: 'fastify-metrics', group: 'peers', metrics: true, tracing: false, description: 'fastify-metrics 13.2.1 with its defaults (route histogram and summary, prom-client default metrics, /metrics)' },
  { id: 'otel-peers', label: '@fastify/otel + instrumentation-http', group: 'peers', metrics: false, tracing: true, description: 'OpenTelemetry NodeSDK, instrumentation-http + @fastify/otel, 100% sampling, BatchSpanProcessor into a counting no-op exporter' },
  { id: 'pino', label: 'Fastify pino logging', group: 'peers', metrics: false, tracing: false, description: "Fastify's own pino logger at info (two lines per request) into /dev/null" },
  { id: 'peers-combined', label: 'peers combined', group: 'peers', metrics: true, tracing: true, description: 'fastify-metrics + @fastify/otel + instrumentation-http + pino logging with instrumentation-pino (trace ids in log lines)' },
  { id: 'o11y-metrics', label: '@o11y/metrics', group: 'o11y', metrics: true, tracing: false, description: '@o11y/metrics with its defaults (RED histogram and counters, runtime metrics, exemplars on, /metrics)' },
  { id: 'o11y-tracing', label: '@o11y/tracing', group: 'o11y', metrics: false, tracing: true, description: '@o11y/tracing startTracing + plugin, 100% sampling, its batch processor into the same counting no-op exporter' },
  { id: 'o11y-logging', label: '@o11y/logging', group: 'o11y', metrics: false, tracing: false, description: '@o11y/logging fastifyLoggerOptions + o11yLogging at info (one line per request) into /dev/null' },
  { id: 'o11y-full', label: 'full @o11y suite', group: 'o11y', metrics: true, tracing: true, description: '@o11y/tracing + @o11y/logging + @o11y/metrics together, as in the demo order service' }
]

export function getScenario (id: string): Scenario {
  const found = SCENARIOS.find((s) => s.id === id)
  if (found === undefined) throw new Error(`@o11y/bench: unknown scenario "${id}"; known: ${SCENARIOS.map((s) => s.id).join(', ')}`)
  return found
}
