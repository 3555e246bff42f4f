// Machine-readable report: findings, checked handlers and the summary; no timestamps, so it is stable.

import { TOOL_NAME } from '../constants'
import type { Report } from '../types'
import { summarize } from './summary'

export function formatJson (report: Report, version: string): string {
  return JSON.stringify({
    tool: { name: TOOL_NAME, version },
    summary: summarize(report),
    findings: report.findings,
    handlers: report.handlers
  }, null, 2) + '\n'
}
