// GitHub Actions workflow commands: one `::error file=…,line=…::message` annotation per finding,
// at most GITHUB_ANNOTATIONS_PER_RULE per rule, then one summary line per rule for the rest.

import { GITHUB_ANNOTATIONS_PER_RULE, TOOL_NAME } from '../constants'
import type { Finding, Report } from '../types'

/** Message text: `%`, CR and LF are escaped as the workflow-command syntax requires. */
export function escapeData (value: string): string {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

/** Property values additionally escape `:` and `,`, which delimit properties. */
export function escapeProperty (value: string): string {
  return escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C')
}

function annotation (f: Finding): string {
  const props = [
    `file=${escapeProperty(f.file)}`,
    `line=${f.line}`,
    `col=${f.column}`,
    `endLine=${f.endLine}`,
    `endColumn=${f.endColumn}`,
    `title=${escapeProperty(`${TOOL_NAME} ${f.ruleId}`)}`
  ].join(',')
  return `::${f.severity === 'error' ? 'error' : 'warning'} ${props}::${escapeData(`${f.message}\nFix: ${f.fix}`)}`
}

export function formatGithub (report: Report): string {
  const out: string[] = []
  const perRule = new Map<string, number>()
  const hidden = new Map<string, number>()
  for (const f of report.findings) {
    const n = perRule.get(f.ruleId) ?? 0
    perRule.set(f.ruleId, n + 1)
    if (n < GITHUB_ANNOTATIONS_PER_RULE) out.push(annotation(f))
    else hidden.set(f.ruleId, (hidden.get(f.ruleId) ?? 0) + 1)
  }
  for (const [rule, n] of [...hidden].sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`::warning title=${escapeProperty(`${TOOL_NAME} ${rule}`)}::${escapeData(`${n} more ${rule} finding${n === 1 ? '' : 's'} not annotated (${GITHUB_ANNOTATIONS_PER_RULE} per rule); see the SARIF upload or run ${TOOL_NAME} locally`)}`)
  }
  return out.length === 0 ? '' : out.join('\n') + '\n'
}
