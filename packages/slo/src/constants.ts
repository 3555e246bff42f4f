/**
 * Every name a user, a dashboard or an alert sees is defined here once and documented in the README.
 */

/** Metric names produced by @o11y/metrics (see CONTRACTS.md). The SLIs are computed from these only. */
export const METRICS = {
  requests: 'http_requests_total',
  durationBucket: 'http_request_duration_seconds_bucket',
  durationCount: 'http_request_duration_seconds_count'
} as const

/** Labels of the source metrics. */
export const SOURCE_LABELS = {
  route: 'route',
  method: 'method',
  statusCode: 'status_code',
  le: 'le'
} as const

/** Labels the generated recording rules and alerts carry. */
export const SLO_LABELS = {
  service: 'service',
  slo: 'slo',
  sli: 'sli',
  route: 'route',
  method: 'method',
  severity: 'severity',
  longWindow: 'long_window',
  shortWindow: 'short_window'
} as const

/** Names of the generated recording rules. `<w>` is one of RATE_WINDOWS or the SLO window. */
export const RECORDS = {
  errorRatio: (window: string): string => `slo:sli_error:ratio_rate${window}`,
  objective: 'slo:objective:ratio',
  errorBudget: 'slo:error_budget:ratio',
  budgetRemaining: 'slo:error_budget_remaining:ratio'
} as const

/** Error-ratio windows recorded for every SLO (Google SRE Workbook, multiwindow multi-burn-rate). */
export const RATE_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const
export type RateWindow = typeof RATE_WINDOWS[number]

/** Severities understood by the Alertmanager routing in deploy/. */
export const SEVERITY = { page: 'critical', ticket: 'warning' } as const

export interface BurnTier {
  /** Stable id, also the runbook anchor in docs/slo.md. */
  id: 'page-fast-burn' | 'page-slow-burn' | 'ticket-fast-burn' | 'ticket-slow-burn'
  kind: 'page' | 'ticket'
  burnRate: number
  longWindow: RateWindow
  shortWindow: RateWindow
}

/** The four alerting tiers, fastest first. */
export const BURN_TIERS: readonly BurnTier[] = [
  { id: 'page-fast-burn', kind: 'page', burnRate: 14.4, longWindow: '1h', shortWindow: '5m' },
  { id: 'page-slow-burn', kind: 'page', burnRate: 6, longWindow: '6h', shortWindow: '30m' },
  { id: 'ticket-fast-burn', kind: 'ticket', burnRate: 3, longWindow: '1d', shortWindow: '2h' },
  { id: 'ticket-slow-burn', kind: 'ticket', burnRate: 1, longWindow: '3d', shortWindow: '6h' }
]

/** Bucket bounds of http_request_duration_seconds in @o11y/metrics (OpenTelemetry HTTP defaults). */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]

export const DEFAULTS = {
  window: '30d',
  selectorLabel: 'service',
  /** Low-traffic guard: a tier fires only with at least this many requests in its long window. */
  minRequests: 100,
  runbookUrl: 'https://example.invalid/o11y-fastify/blob/main/docs/slo.md'
} as const

export const SELECTOR_LABELS = ['service', 'job'] as const
export const SLI_KINDS = ['availability', 'latency'] as const
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const

/** Where the generated files go inside --out-dir. */
export const LAYOUT = {
  rulesDir: 'prometheus/rules',
  testsDir: 'prometheus/tests',
  dashboardsDir: 'grafana/dashboards',
  rulesFile: (service: string): string => `slo-${service}.yml`,
  testsFile: (service: string): string => `slo-${service}.test.yml`,
  dashboardFile: (service: string): string => `slo-${service}.json`
} as const

export const CLI = {
  name: 'o11y-slo',
  commands: ['generate', 'check', 'validate'] as const,
  flags: {
    spec: 'spec',
    outDir: 'out-dir',
    help: 'help',
    debug: 'debug'
  }
} as const

/** Exit codes of the CLI (eslint convention). */
export const EXIT = { ok: 0, findings: 1, usage: 2 } as const

export const PACKAGE_NAME = '@o11y/slo'
