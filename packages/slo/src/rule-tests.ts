import { BURN_TIERS, METRICS, RECORDS, SOURCE_LABELS, type BurnTier } from './constants'
import { alertName, alertRule, tierThreshold } from './rules'
import { round, type Slo, type Spec } from './spec'

export interface InputSeries { series: string, values: string }
export interface ExpAlert { exp_labels: Record<string, string>, exp_annotations: Record<string, string> }
export interface AlertTest { eval_time: string, alertname: string, exp_alerts: ExpAlert[] }
export interface ExprTest { expr: string, eval_time: string, exp_samples: Array<{ labels: string, value: number }> }
export interface RuleTestCase {
  name: string
  interval: string
  input_series: InputSeries[]
  alert_rule_test: AlertTest[]
  promql_expr_test?: ExprTest[]
}
export interface RuleTestFile {
  rule_files: string[]
  evaluation_interval: string
  tests: RuleTestCase[]
}

const MINUTES: Record<string, number> = { '5m': 5, '30m': 30, '1h': 60, '2h': 120, '6h': 360, '1d': 1440, '3d': 4320 }
/** Requests per minute in the synthetic traffic; well above any sensible low-traffic guard. */
const BASE_RATE = 1000
/** "At its rate" means just above the tier's threshold, "below it" just under: comparisons are strict. */
const ABOVE = 1.1
const BELOW = 0.9
/** When no route is set, traffic goes to this one (any route of the service counts). */
const DEFAULT_ROUTE = '/api/orders'
const MAX_MINUTES = 360
/** Rules are evaluated every 5m (series stay at 1m): five times fewer steps, and every eval time is a multiple. */
const EVALUATION_INTERVAL = '5m'

function labelText (labels: Record<string, string>): string {
  return `{${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`
}

function counter (perMinute: number, minutes: number): string {
  return `0+${round(perMinute)}x${minutes}`
}

/** Synthetic source series: `perMinute` requests a minute of which a share `ratio` is bad, for `minutes`. */
export function syntheticTraffic (spec: Spec, slo: Slo, perMinute: number, ratio: number, minutes: number): InputSeries[] {
  const base: Record<string, string> = {
    service: spec.service,
    job: spec.service,
    [SOURCE_LABELS.method]: slo.method ?? 'GET',
    [SOURCE_LABELS.route]: slo.route ?? DEFAULT_ROUTE
  }
  const good = perMinute * (1 - ratio)
  const bad = perMinute * ratio
  if (slo.sli === 'availability') {
    return [
      { series: METRICS.requests + labelText({ ...base, [SOURCE_LABELS.statusCode]: '200' }), values: counter(good, minutes) },
      { series: METRICS.requests + labelText({ ...base, [SOURCE_LABELS.statusCode]: '500' }), values: counter(bad, minutes) }
    ]
  }
  const ok = { ...base, [SOURCE_LABELS.statusCode]: '200' }
  return [
    { series: METRICS.durationBucket + labelText({ ...ok, [SOURCE_LABELS.le]: String(slo.threshold) }), values: counter(good, minutes) },
    { series: METRICS.durationCount + labelText(ok), values: counter(perMinute, minutes) }
  ]
}

function expectedAlert (spec: Spec, slo: Slo, tier: BurnTier): ExpAlert {
  const rule = alertRule(spec, slo, tier)
  const recorded: Record<string, string> = { service: spec.service, slo: slo.name, sli: slo.sli }
  if (slo.route !== undefined) recorded.route = slo.route
  if (slo.method !== undefined) recorded.method = slo.method
  return { exp_labels: { ...rule.labels, ...recorded }, exp_annotations: { ...rule.annotations } }
}

/** With the same error ratio over every window, exactly the tiers whose threshold is below it fire. */
function firingAt (spec: Spec, slo: Slo, ratio: number): ExpAlert[] {
  return BURN_TIERS.filter((tier) => tierThreshold(slo, tier) < ratio).map((tier) => expectedAlert(spec, slo, tier))
}

function tierWords (tier: BurnTier): string {
  return `${tier.kind} at ${tier.burnRate}x over ${tier.longWindow} and ${tier.shortWindow}`
}

function burnCase (spec: Spec, slo: Slo, tier: BurnTier, factor: number): RuleTestCase | undefined {
  const ratio = round(tierThreshold(slo, tier) * factor)
  // A tier whose threshold is above 100% errors cannot fire (objectives below about 93%): nothing to prove.
  if (ratio >= 1) return undefined
  // Held for the long window, up to 6h: the ratio is the same over every window either way, and
  // evaluating 1d or 3d of one-minute samples makes promtool take minutes.
  const minutes = Math.min(MINUTES[tier.longWindow] as number, MAX_MINUTES)
  const evalTime = minutes === MAX_MINUTES ? '6h' : tier.longWindow
  const perMinute = Math.max(BASE_RATE, Math.ceil(slo.minRequests * 2 / 60))
  const burn = round(tier.burnRate * factor)
  const expected = firingAt(spec, slo, ratio)
  const verb = factor > 1 ? 'fires' : 'stays quiet'
  return {
    name: `${slo.name}: a ${burn}x burn (${ratio} errors) for ${evalTime}: ${tier.id} (${tierWords(tier)}) ${verb}; firing: ${expected.map((a) => `${a.exp_labels.long_window}/${a.exp_labels.short_window}`).join(', ') || 'none'}`,
    interval: '1m',
    input_series: syntheticTraffic(spec, slo, perMinute, ratio, minutes),
    alert_rule_test: [{ eval_time: evalTime, alertname: alertName(spec, slo), exp_alerts: expected }]
  }
}

/** Share of a window ending at `at` minutes that fell into a burn over minutes (0, `burnEnd`]. */
function burnShare (window: string, at: number, burnEnd: number): number {
  const minutes = MINUTES[window] as number
  const covered = Math.min(minutes, at)
  return Math.max(0, burnEnd - Math.max(0, at - minutes)) / covered
}

/**
 * The point of the short windows: an hour-long burn pages; ten minutes after the errors stop the
 * 5m window is clean and the page clears although the 1h window is still far above 14.4x.
 * Left out when the numbers would sit within 10% of a threshold (very low objectives).
 */
function recoveryCase (spec: Spec, slo: Slo): RuleTestCase | undefined {
  const [fast] = BURN_TIERS as [BurnTier]
  const ratio = Math.min(round(2 * tierThreshold(slo, fast)), 1)
  const burnEnd = 60
  const at = 70
  const firingAfter: ExpAlert[] = []
  for (const tier of BURN_TIERS) {
    const threshold = tierThreshold(slo, tier)
    const above = [tier.longWindow, tier.shortWindow].map((w) => ratio * burnShare(w, at, burnEnd))
    if (above.some((r) => r > threshold * BELOW && r < threshold * ABOVE)) return undefined
    if (above.every((r) => r > threshold)) firingAfter.push(expectedAlert(spec, slo, tier))
  }
  if (!(ratio * burnShare(fast.longWindow, at, burnEnd) > tierThreshold(slo, fast) * ABOVE)) return undefined
  const perMinute = Math.max(BASE_RATE, Math.ceil(slo.minRequests * 2 / 60))
  const burning = syntheticTraffic(spec, slo, perMinute, ratio, burnEnd)
  const after = syntheticTraffic(spec, slo, perMinute, 0, burnEnd)
  // Continue each counter from where the burn left it: the good one grows by the full rate, the bad one stays flat.
  const series = burning.map((s, i) => {
    const [start, step] = s.values.replace(/x\d+$/, '').split('+').map(Number) as [number, number]
    const afterStep = Number((after[i] as InputSeries).values.replace(/x\d+$/, '').split('+')[1])
    const last = round(start + step * burnEnd)
    return { series: s.series, values: `${s.values} ${round(last + afterStep)}+${afterStep}x${at - burnEnd - 1}` }
  })
  return {
    name: `${slo.name}: a ${round(ratio / slo.errorBudget)}x burn for 1h fires ${fast.id}; 10m after the errors stop the 5m window clears it while the 1h window is still above ${fast.burnRate}x`,
    interval: '1m',
    input_series: series,
    alert_rule_test: [
      { eval_time: '1h', alertname: alertName(spec, slo), exp_alerts: firingAt(spec, slo, ratio) },
      { eval_time: `${at}m`, alertname: alertName(spec, slo), exp_alerts: firingAfter }
    ]
  }
}

function recordLabels (spec: Spec, slo: Slo, record: string): string {
  const labels: Record<string, string> = { service: spec.service, slo: slo.name, sli: slo.sli }
  if (slo.route !== undefined) labels.route = slo.route
  if (slo.method !== undefined) labels.method = slo.method
  return record + labelText(labels)
}

function healthyCase (spec: Spec, slo: Slo): RuleTestCase {
  const sel = `{service=${JSON.stringify(spec.service)},slo=${JSON.stringify(slo.name)}}`
  const sample = (record: string, value: number): ExprTest => ({
    expr: record + sel,
    eval_time: '1h',
    exp_samples: [{ labels: recordLabels(spec, slo, record), value }]
  })
  return {
    name: `${slo.name}: no errors for 1h: nothing fires, error ratio 0, the whole budget remains`,
    interval: '1m',
    input_series: syntheticTraffic(spec, slo, BASE_RATE, 0, 60),
    alert_rule_test: [{ eval_time: '1h', alertname: alertName(spec, slo), exp_alerts: [] }],
    promql_expr_test: [
      sample(RECORDS.objective, slo.objectiveRatio),
      sample(RECORDS.errorBudget, slo.errorBudget),
      sample(RECORDS.errorRatio('5m'), 0),
      sample(RECORDS.errorRatio('3d'), 0),
      sample(RECORDS.budgetRemaining, 1)
    ]
  }
}

function lowTrafficCase (spec: Spec, slo: Slo): RuleTestCase {
  const total = slo.minRequests / 2
  return {
    name: `${slo.name}: half the requests fail but only ${total} requests in 1h (guard: ${slo.minRequests}): nothing fires`,
    interval: '1m',
    input_series: syntheticTraffic(spec, slo, total / 60, 0.5, 60),
    alert_rule_test: [{ eval_time: '1h', alertname: alertName(spec, slo), exp_alerts: [] }]
  }
}

/**
 * `promtool test rules` cases for a spec: per SLO, a healthy hour, then for every tier a burn just above
 * its rate (it fires, with every slower tier) and just below it (it stays quiet, the slower ones fire),
 * each held for the tier's long window (up to 6h); recovery after an hour-long fast burn; and the low-traffic guard.
 */
export function buildRuleTests (spec: Spec, rulesFile: string): RuleTestFile {
  const tests: RuleTestCase[] = []
  for (const slo of spec.slos) {
    tests.push(healthyCase(spec, slo))
    for (const tier of BURN_TIERS) {
      for (const factor of [ABOVE, BELOW]) {
        const test = burnCase(spec, slo, tier, factor)
        if (test) tests.push(test)
      }
    }
    const recovery = recoveryCase(spec, slo)
    if (recovery) tests.push(recovery)
    if (slo.minRequests > 0) tests.push(lowTrafficCase(spec, slo))
  }
  return { rule_files: [rulesFile], evaluation_interval: EVALUATION_INTERVAL, tests }
}
