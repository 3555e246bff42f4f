import { RULE_IDS, type RuleId, type Severity } from './constants'

export interface RuleMeta {
  id: RuleId
  defaultSeverity: Severity
  description: string
  fix: string
}

export const RULES: readonly RuleMeta[] = [
  {
    id: RULE_IDS.routeInstrumented,
    defaultSeverity: 'error',
    description: 'A new or changed Fastify route handler that does real work (calls, awaits) must contain the required instrumentation categories: tracing, metrics, logging.',
    fix: 'Wrap the work in withSpan(...) or call addSpanAttributes/addSpanEvent (tracing), count or time it with app.metrics / a prom-client metric (metrics), or log with request.log.info(...) or a getLogger() logger (logging).'
  },
  {
    id: RULE_IDS.pluginsRegistered,
    defaultSeverity: 'error',
    description: 'A file that creates a Fastify instance and registers routes, in a project that never registers @o11y/metrics, @o11y/tracing or the @o11y/logging logger.',
    fix: 'Register the missing plugins: app.register(o11yMetrics), app.register(o11yTracing), and create the app with Fastify({ ...fastifyLoggerOptions() }) or app.register(o11yLogging).'
  },
  {
    id: RULE_IDS.optOutJustified,
    defaultSeverity: 'error',
    description: 'A route that opts out of telemetry with config: { metrics: false }, { tracing: false } or { logging: false } must say why in a comment.',
    fix: 'Add a comment next to the opt-out saying why this route must not be measured, e.g. `metrics: false, // scraped by Prometheus every 15 s: would drown the RED metrics`.'
  },
  {
    id: RULE_IDS.noConsole,
    defaultSeverity: 'error',
    description: 'console.* inside a route handler, a Fastify plugin, hook or error handler: the line carries no trace id, no level and no request context.',
    fix: 'Use request.log.<level>(...) in handlers and hooks, fastify.log or getLogger(name) from @o11y/logging in plugins.'
  },
  {
    id: RULE_IDS.labelCardinality,
    defaultSeverity: 'error',
    description: 'A metric label whose value comes from request params, query, headers or body, from a URL, or from an id-like field: every distinct value creates a new time series.',
    fix: 'Use a bounded value as the label (the route template, a status, an enum member); put ids and URLs on the span (addSpanAttributes) or in the log line instead.'
  },
  {
    id: RULE_IDS.errorObserved,
    defaultSeverity: 'error',
    description: 'A catch block that neither rethrows, logs nor records the exception on a span: the failure disappears from every signal.',
    fix: 'Rethrow, log it (request.log.error({ err }, ...)), or record it on the span (span.recordException(err)); if swallowing is intended, say why with an o11y-gate-ignore comment.'
  },
  {
    id: RULE_IDS.suppressionReason,
    defaultSeverity: 'error',
    description: 'An o11y-gate-ignore comment without a known rule id or without a reason.',
    fix: 'Write it as `// o11y-gate-ignore <rule-id>: <why this is fine>`.'
  }
]

export const RULES_BY_ID: ReadonlyMap<RuleId, RuleMeta> = new Map(RULES.map((r) => [r.id, r]))

export function ruleMeta (id: RuleId): RuleMeta {
  const meta = RULES_BY_ID.get(id)
  /* c8 ignore next */
  if (meta === undefined) throw new Error(`unknown rule ${id}`)
  return meta
}
