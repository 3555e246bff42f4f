import { projectHome, type Manifest } from '@o11y/cli-kit'
import { BUCKET_BOUND_LABEL, DEFAULT_LATENCY_BUCKETS, HISTOGRAM_SERIES, KNOWN_HTTP_METHODS, LABELS, METRIC_NAMES } from '@o11y/semconv'
/**
 * Every name a user, a dashboard or an alert sees is defined here once and documented in the README.
 */

/** Metric names produced by @o11y/metrics (its README, "Telemetry emitted"). The SLIs are computed from these only. */
export const METRICS = {
  requests: METRIC_NAMES.requestsTotal,
  durationBucket: `${METRIC_NAMES.requestDuration}${HISTOGRAM_SERIES.bucket}`,
  durationCount: `${METRIC_NAMES.requestDuration}${HISTOGRAM_SERIES.count}`
} as const

/** Labels of the source metrics. */
export const SOURCE_LABELS = {
  route: LABELS.route,
  method: LABELS.method,
  statusCode: LABELS.statusCode,
  le: BUCKET_BOUND_LABEL
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
export const DEFAULT_BUCKETS: readonly number[] = DEFAULT_LATENCY_BUCKETS

export const DEFAULTS = {
  window: '30d',
  selectorLabel: 'service',
  /** Low-traffic guard: a tier fires only with at least this many requests in its long window. */
  minRequests: 100
} as const

/**
 * The project's docs, from this package's package.json `repository` (which scripts/project-urls.mjs
 * derives from the root package.json `homepage`). The alerts' runbook links point into it unless
 * O11Y_RUNBOOK_BASE_URL or a spec's `runbookUrl` says otherwise.
 */
export const DOCS_BASE_URL = `${projectHome(require('../package.json') as Manifest)}/blob/main/docs`
/** Environment variable with the base URL of self-hosted runbooks: `<base>/slo.md#<tier>`. */
export const RUNBOOK_BASE_ENV = 'O11Y_RUNBOOK_BASE_URL'
/** The page under the runbook base whose anchors are the burn tiers. */
export const RUNBOOK_PAGE = 'slo.md'

export const SELECTOR_LABELS = ['service', 'job'] as const
export const SLI_KINDS = ['availability', 'latency'] as const
/** The methods a spec may select on: the ones @o11y/metrics records as they are (any other is `_OTHER`). */
export const HTTP_METHODS = KNOWN_HTTP_METHODS

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

export const PACKAGE_NAME = '@o11y/slo'
