import { BURN_TIERS, RATE_WINDOWS, RECORDS, SEVERITY, SLO_LABELS, type BurnTier } from './constants'
import { burnAlertExpr, errorRatioExpr, recordSelector, sloLabels } from './promql'
import { round, type Slo, type Spec } from './spec'

export interface RecordingRule {
  record: string
  expr: string
  labels: Record<string, string>
}

export interface AlertingRule {
  alert: string
  expr: string
  labels: Record<string, string>
  annotations: { summary: string, description: string, runbook_url: string }
}

export interface RuleGroup {
  name: string
  rules: Array<RecordingRule | AlertingRule>
}

export interface RuleFile {
  groups: RuleGroup[]
}

function pascal (text: string): string {
  return text.split(/[-_]/).filter(Boolean).map((part) => part[0]?.toUpperCase() + part.slice(1)).join('')
}

/** One alert name per SLO (`OrderServiceAvailabilityBudgetBurn`); the tiers differ by severity and window labels. */
export function alertName (spec: Spec, slo: Slo): string {
  return `${pascal(spec.service)}${pascal(slo.name)}BudgetBurn`
}

export function groupName (spec: Spec, slo: Slo): string {
  return `slo-${spec.service}-${slo.name}`
}

/** Error-ratio threshold of a tier: burn rate times the error budget. */
export function tierThreshold (slo: Slo, tier: BurnTier): number {
  return round(tier.burnRate * slo.errorBudget)
}

/** `2d 2h`, `5d`, `30d`: how long the window's budget lasts at a burn rate. */
export function exhaustionTime (windowDays: number, burnRate: number): string {
  const hours = Math.round(windowDays * 24 / burnRate)
  if (hours < 72) return `${hours}h`
  const days = Math.floor(hours / 24)
  const rest = hours % 24
  return rest === 0 ? `${days}d` : `${days}d ${rest}h`
}

/** What the SLI counts as good, in words. */
export function sliWording (slo: Slo): string {
  const scope = `${slo.method ? slo.method + ' ' : ''}${slo.route ?? 'all routes'}`
  return slo.sli === 'availability'
    ? `requests to ${scope} answered without a 5xx`
    : `requests to ${scope} served within ${slo.threshold}s`
}

export function alertRule (spec: Spec, slo: Slo, tier: BurnTier): AlertingRule {
  const threshold = tierThreshold(slo, tier)
  const action = tier.kind === 'page'
    ? 'This pages: act now.'
    : 'This is a ticket: look into it within working hours.'
  return {
    alert: alertName(spec, slo),
    expr: burnAlertExpr(spec, slo, tier.longWindow, tier.shortWindow, threshold),
    labels: {
      [SLO_LABELS.severity]: SEVERITY[tier.kind],
      [SLO_LABELS.longWindow]: tier.longWindow,
      [SLO_LABELS.shortWindow]: tier.shortWindow
    },
    annotations: {
      summary: `${spec.service} SLO ${slo.name}: error budget burning ${tier.burnRate}x too fast over ${tier.longWindow} and ${tier.shortWindow}`,
      description: `The ${slo.sli} SLO "${slo.name}" of ${spec.service} (${slo.objective}% of ${sliWording(slo)} over ${spec.window}) ` +
        `has had an error ratio above ${threshold} (${tier.burnRate}x its error budget of ${slo.errorBudget}) over both the last ${tier.longWindow} and ${tier.shortWindow}. ` +
        `At this rate the ${spec.window} budget is gone in about ${exhaustionTime(spec.windowDays, tier.burnRate)}. ${action}`,
      runbook_url: `${spec.runbookUrl}#${tier.id}`
    }
  }
}

function sloGroup (spec: Spec, slo: Slo): RuleGroup {
  const labels = sloLabels(spec, slo)
  const rules: Array<RecordingRule | AlertingRule> = [
    { record: RECORDS.objective, expr: `vector(${slo.objectiveRatio})`, labels },
    { record: RECORDS.errorBudget, expr: `vector(${slo.errorBudget})`, labels }
  ]
  // A 3d SLO window is already one of the rate windows.
  for (const window of new Set<string>([...RATE_WINDOWS, spec.window])) {
    rules.push({ record: RECORDS.errorRatio(window), expr: errorRatioExpr(spec, slo, window), labels })
  }
  rules.push({
    record: RECORDS.budgetRemaining,
    expr: `1 - (\n  ${recordSelector(RECORDS.errorRatio(spec.window), spec, slo)}\n  /\n  ${recordSelector(RECORDS.errorBudget, spec, slo)}\n)`,
    labels
  })
  for (const tier of BURN_TIERS) rules.push(alertRule(spec, slo, tier))
  return { name: groupName(spec, slo), rules }
}

/** The Prometheus rule file of a spec: one group per SLO, recording rules first so alerts read fresh values. */
export function buildRules (spec: Spec): RuleFile {
  return { groups: spec.slos.map((slo) => sloGroup(spec, slo)) }
}
