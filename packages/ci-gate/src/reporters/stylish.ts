// Human-readable report, grouped by file, with the instrumentation coverage of the checked handlers.

import { CATEGORIES } from '../constants'
import type { Report } from '../types'
import { plural, summarize } from './summary'

/** One finding per line: control characters in messages (a route path can hold any) are shown escaped. */
function oneLine (text: string): string {
  return text.replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/\t/g, '\\t')
}

export function formatStylish (report: Report): string {
  const s = summarize(report)
  const out: string[] = []
  let file: string | undefined
  for (const f of report.findings) {
    if (f.file !== file) {
      if (file !== undefined) out.push('')
      file = f.file
      out.push(oneLine(f.file))
    }
    out.push(`  ${`${f.line}:${f.column}`.padEnd(8)}${f.severity.padEnd(9)}${oneLine(f.message)}  ${f.ruleId}`)
    out.push(`  ${''.padEnd(17)}fix: ${f.fix}`)
  }
  if (report.findings.length > 0) out.push('')
  const total = s.errors + s.warnings
  out.push(total === 0
    ? `No problems in ${plural(s.files, 'file')}.`
    : `${plural(total, 'problem')} (${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')}) in ${plural(new Set(report.findings.map((f) => f.file)).size, 'file')} of ${s.files} checked.`)
  const rules = Object.entries(s.byRule).filter(([, n]) => n > 0).map(([id, n]) => `${id} ${n}`)
  if (rules.length > 0) out.push(`By rule: ${rules.join(', ')}.`)
  out.push(s.handlers === 0
    ? 'Route handlers checked: 0.'
    : `Route handlers checked: ${s.handlers}; with ${CATEGORIES.map((c) => `${c} ${s.categories[c]}/${s.handlers}`).join(', ')}` +
      (s.pluginCovered !== undefined ? `; observed through the registered @o11y plugins ${s.pluginCovered}/${s.handlers}.` : '.'))
  if (s.suppressed > 0 || s.baselined > 0) out.push(`Suppressed inline: ${s.suppressed}; accepted by the baseline: ${s.baselined}.`)
  return out.join('\n') + '\n'
}
