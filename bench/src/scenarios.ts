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
  /** Runs as a node:cluster primary plus worker(s); CPU is the worker's (cluster-server.ts). */
  cluster?: boolean
  /** Writes its log lines to stdout, a pipe (FIFO) that the runner reads and discards. */
  stdout?: boolean
}

export type ScenarioId =
  | 'bare' | 'fastify-metrics' | 'otel-peers' | 'dd-trace' | 'pino' | 'pino-stdout' | 'peers-combined'
  | 'o11y-metrics' | 'o11y-metrics-otlp' | 'o11y-metrics-cluster' | 'o11y-tracing' | 'o11y-tracing-lifecycle'
  | 'o11y-logging' | 'o11y-logging-stdout' | 'o11y-logging-otlp' | 'o11y-full'

export const SCENARIOS: readonly Scenario[] = [
  { id: 'bare', label: 'bare Fastify', group: 'reference', metrics: false, tracing: false, description: 'Fastify 5, logger off: the reference' },
  { id: 'fastify-metrics', label: 'fastify-metrics', group: 'peers', metrics: true, tracing: false, description: 'fastify-metrics 14.1 with its defaults (route histogram and summary, default metrics, /metrics) on @platformatic/prom-client, which it picks up when installed' },
  { id: 'otel-peers', label: '@fastify/otel + instrumentation-http', group: 'peers', metrics: false, tracing: true, description: 'OpenTelemetry NodeSDK, instrumentation-http + @fastify/otel, 100% sampling, BatchSpanProcessor into a counting no-op exporter' },
  { id: 'dd-trace', label: 'dd-trace', group: 'peers', metrics: false, tracing: true, description: "Datadog's tracer (http + fastify plugins), 100% sampling, runtime metrics, profiling, telemetry and remote configuration off, no agent (traces encoded as usual; each flush, every 2 s, fails at once on a Unix socket path that does not exist)" },
  { id: 'pino', label: 'Fastify pino logging', group: 'peers', metrics: false, tracing: false, description: "Fastify's own pino logger at info (two lines per request) into /dev/null" },
  { id: 'pino-stdout', label: 'Fastify pino logging, stdout', group: 'peers', metrics: false, tracing: false, stdout: true, description: "Fastify's own pino logger at info with its default destination (stdout), a pipe the runner reads" },
  { id: 'peers-combined', label: 'peers combined', group: 'peers', metrics: true, tracing: true, description: 'fastify-metrics + @fastify/otel + instrumentation-http + pino logging with instrumentation-pino (trace ids in log lines)' },
  { id: 'o11y-metrics', label: '@o11y/metrics', group: 'o11y', metrics: true, tracing: false, description: '@o11y/metrics with its defaults (RED histogram and counters, runtime metrics, exemplars on, /metrics)' },
  { id: 'o11y-metrics-otlp', label: '@o11y/metrics + OTLP push', group: 'o11y', metrics: true, tracing: false, description: '@o11y/metrics with its defaults and the OTLP push mode on (http/protobuf every second into an in-process sink that reads and acknowledges each export), /metrics beside it' },
  { id: 'o11y-metrics-cluster', label: '@o11y/metrics, cluster worker', group: 'o11y', metrics: true, tracing: false, cluster: true, description: '@o11y/metrics with `cluster: true` in a node:cluster worker (primary runs clusterMetrics()); CPU measured in the worker' },
  { id: 'o11y-tracing', label: '@o11y/tracing', group: 'o11y', metrics: false, tracing: true, description: '@o11y/tracing startTracing + plugin with its defaults (one SERVER span per request), 100% sampling, its batch processor into the same counting no-op exporter' },
  { id: 'o11y-tracing-lifecycle', label: '@o11y/tracing, lifecycleSpans', group: 'o11y', metrics: false, tracing: true, description: 'o11y-tracing with `lifecycleSpans: true` (plus the request and handler spans of @fastify/otel: three spans per request, as the OTel peers make)' },
  { id: 'o11y-logging', label: '@o11y/logging', group: 'o11y', metrics: false, tracing: false, description: '@o11y/logging fastifyLoggerOptions + o11yLogging at info (one line per request) into /dev/null' },
  { id: 'o11y-logging-stdout', label: '@o11y/logging, stdout', group: 'o11y', metrics: false, tracing: false, stdout: true, description: '@o11y/logging with its default destination (stdout), a pipe the runner reads' },
  { id: 'o11y-logging-otlp', label: '@o11y/logging, stdout + OTLP', group: 'o11y', metrics: false, tracing: false, stdout: true, description: 'o11y-logging-stdout plus OTLP log export (http/protobuf, default batching, into an in-process sink that reads and acknowledges each export)' },
  { id: 'o11y-full', label: 'full @o11y suite', group: 'o11y', metrics: true, tracing: true, description: '@o11y/tracing + @o11y/logging + @o11y/metrics together, as in the demo order service' }
]

export function getScenario (id: string): Scenario {
  const found = SCENARIOS.find((s) => s.id === id)
  if (found === undefined) throw new Error(`@o11y/bench: unknown scenario "${id}"; known: ${SCENARIOS.map((s) => s.id).join(', ')}`)
  return found
}
