// Baseline files let an existing codebase adopt the gate: known findings (by fingerprint, which
// does not contain line numbers) are accepted, new ones fail.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { BASELINE_VERSION, TOOL_NAME } from './constants'
import { baselineError } from './errors'
import type { Finding } from './types'

export interface BaselineEntry { fingerprint: string, ruleId: string, file: string, message: string }
export interface BaselineFile { version: number, tool: string, findings: BaselineEntry[] }

export function readBaseline (path: string, label: string): Set<string> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw baselineError(`cannot read baseline ${label}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, err)
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw baselineError(`baseline ${label} is not valid JSON: ${(err as Error).message}`, err)
  }
  const file = data as Partial<BaselineFile>
  if (file === null || typeof file !== 'object' || file.version !== BASELINE_VERSION || !Array.isArray(file.findings) ||
    !file.findings.every((f) => f !== null && typeof f === 'object' && typeof f.fingerprint === 'string')) {
    throw baselineError(`baseline ${label} is not an ${TOOL_NAME} baseline (version ${BASELINE_VERSION}); write one with --write-baseline`)
  }
  return new Set(file.findings.map((f) => f.fingerprint))
}

export function renderBaseline (findings: readonly Finding[]): string {
  const body: BaselineFile = {
    version: BASELINE_VERSION,
    tool: TOOL_NAME,
    findings: findings.map((f) => ({ fingerprint: f.fingerprint, ruleId: f.ruleId, file: f.file, message: f.message }))
  }
  return JSON.stringify(body, null, 2) + '\n'
}

export function writeBaseline (path: string, label: string, findings: readonly Finding[]): void {
  try {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, renderBaseline(findings))
  } catch (err) {
    throw baselineError(`cannot write baseline ${label}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, err)
  }
}
