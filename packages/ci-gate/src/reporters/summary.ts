import { CATEGORIES, type RuleId } from '../constants'
import { RULES } from '../registry'
import type { Report } from '../types'

export interface Summary {
  files: number
  errors: number
  warnings: number
  suppressed: number
  baselined: number
  byRule: Record<RuleId, number>
  handlers: number
  categories: Record<typeof CATEGORIES[number], number>
  /** Handlers the registered @o11y plugins observe (default mode). */
  pluginCovered?: number
}

export function summarize (report: Report): Summary {
  const covered = report.handlers.filter((h) => (h.plugins ?? []).length > 0).length
  const byRule = Object.fromEntries(RULES.map((r) => [r.id, 0])) as Record<RuleId, number>
  for (const f of report.findings) byRule[f.ruleId] = (byRule[f.ruleId] ?? 0) + 1
  const categories = Object.fromEntries(CATEGORIES.map((c) => [c, report.handlers.filter((h) => h.categories.includes(c)).length])) as Summary['categories']
  return {
    files: report.filesChecked,
    errors: report.findings.filter((f) => f.severity === 'error').length,
    warnings: report.findings.filter((f) => f.severity === 'warning').length,
    suppressed: report.suppressed,
    baselined: report.baselined,
    byRule,
    handlers: report.handlers.length,
    categories,
    ...(covered > 0 ? { pluginCovered: covered } : {})
  }
}

export function plural (n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}
