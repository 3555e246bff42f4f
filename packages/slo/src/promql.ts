import { METRICS, RECORDS, SLO_LABELS, SOURCE_LABELS } from './constants'
import type { Slo, Spec } from './spec'

/** A PromQL string literal; JSON escaping is a subset of what PromQL accepts. */
export function quote (value: string): string {
  return JSON.stringify(value)
}

function matchers (pairs: Array<[string, string]>): string {
  return pairs.map(([name, value]) => `${name}=${quote(value)}`).join(',')
}

/** Matchers that select the SLO's source series: the service (or job) plus route and method when set. */
export function sourceMatchers (spec: Spec, slo: Slo): string {
  const pairs: Array<[string, string]> = [[spec.selectorLabel, spec.service]]
  if (slo.route !== undefined) pairs.push([SOURCE_LABELS.route, slo.route])
  if (slo.method !== undefined) pairs.push([SOURCE_LABELS.method, slo.method])
  return matchers(pairs)
}

/**
 * The `le` matcher for a bucket bound. Prometheus 2 keeps `le` as exposed (prom-client writes `1`),
 * Prometheus 3 normalises integers to `1.0`: match both so the rules survive an upgrade.
 */
export function leMatcher (bound: number): string {
  const text = String(bound)
  return Number.isInteger(bound) ? `${SOURCE_LABELS.le}=~${quote(`${text}|${text}.0`)}` : `${SOURCE_LABELS.le}=${quote(text)}`
}

/** Static labels on every generated series of an SLO (alerts inherit them). */
export function sloLabels (spec: Spec, slo: Slo): Record<string, string> {
  const labels: Record<string, string> = {
    [SLO_LABELS.service]: spec.service,
    [SLO_LABELS.slo]: slo.name,
    [SLO_LABELS.sli]: slo.sli
  }
  if (slo.route !== undefined) labels[SLO_LABELS.route] = slo.route
  if (slo.method !== undefined) labels[SLO_LABELS.method] = slo.method
  return labels
}

/** Selector for an SLO's recorded series: service and slo identify it. */
export function recordSelector (record: string, spec: Spec, slo: Slo): string {
  return `${record}{${matchers([[SLO_LABELS.service, spec.service], [SLO_LABELS.slo, slo.name]])}}`
}

/** Share of bad requests over `window`. */
export function errorRatioExpr (spec: Spec, slo: Slo, window: string): string {
  const sel = sourceMatchers(spec, slo)
  if (slo.sli === 'availability') {
    // No 5xx series at all is the common, healthy case: count it as zero errors rather than no data.
    return `(sum(rate(${METRICS.requests}{${sel},${SOURCE_LABELS.statusCode}=~"5.."}[${window}])) or vector(0))\n/\nsum(rate(${METRICS.requests}{${sel}}[${window}]))`
  }
  return `1 - (\n  sum(rate(${METRICS.durationBucket}{${sel},${leMatcher(slo.threshold as number)}}[${window}]))\n  /\n  sum(rate(${METRICS.durationCount}{${sel}}[${window}]))\n)`
}

/** Requests counted by the SLI over `window` (the low-traffic guard). */
export function requestCountExpr (spec: Spec, slo: Slo, window: string): string {
  const metric = slo.sli === 'availability' ? METRICS.requests : METRICS.durationCount
  return `sum(increase(${metric}{${sourceMatchers(spec, slo)}}[${window}]))`
}

/** Burn-rate condition of one tier: both windows above `threshold`, enough traffic in the long one. */
export function burnAlertExpr (spec: Spec, slo: Slo, longWindow: string, shortWindow: string, threshold: number): string {
  const long = recordSelector(RECORDS.errorRatio(longWindow), spec, slo)
  const short = recordSelector(RECORDS.errorRatio(shortWindow), spec, slo)
  const burn = `(\n  ${long} > ${threshold}\n  and\n  ${short} > ${threshold}\n)`
  if (slo.minRequests === 0) return burn
  return `${burn}\nand on ()\n${requestCountExpr(spec, slo, longWindow)} >= ${slo.minRequests}`
}
