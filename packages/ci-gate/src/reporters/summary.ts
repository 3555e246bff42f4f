import { CATEGORIES, RULE_IDS, type RuleId } from '../constants'
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
}

export function summarize (report: Report): Summary {
  const byRule = Object.fromEntries(Object.values(RULE_IDS).map((id) => [id, 0])) as Record<RuleId, number>
  for (const f of report.findings) byRule[f.ruleId]++
  const categories = Object.fromEntries(CATEGORIES.map((c) => [c, report.handlers.filter((h) => h.categories.includes(c)).length])) as Summary['categories']
  return {
    files: report.filesChecked,
    errors: report.findings.filter((f) => f.severity === 'error').length,
    warnings: report.findings.filter((f) => f.severity === 'warning').length,
    suppressed: report.suppressed,
    baselined: report.baselined,
    byRule,
    handlers: report.handlers.length,
    categories
  }
}

export function plural (n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}
