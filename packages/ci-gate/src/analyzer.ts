// Judges one file: builds its view once (src/view), runs every rule module of the registry
// (src/rules) over it, then applies severities, the diff, o11y-gate-ignore directives and
// fingerprints. Rules only report; everything a user configures is applied here.

import { createHash } from 'node:crypto'
import { CATEGORIES, type RuleId, type Severity } from './constants'
import { RULE_MODULES } from './registry'
import type { Problem } from './rule-types'
import type { Finding, HandlerCoverage } from './types'
import { lineOf, parse } from './view/ast'
import { collectFacts } from './view/facts'
import { buildView, type FileRules } from './view/index'
import { mergeScan, scanFacts, scanPackageJson, type PluginCoverage, type ProjectScan, type Registrations } from './view/registrations'

export type { FileRules } from './view/index'
export type { Registrations, PluginCoverage, ProjectScan } from './view/registrations'
export { scanPackageJson, mergeScan }

export interface AnalyzeInput {
  /** Path shown in findings. */
  file: string
  text: string
  rules: FileRules
  /** When set, only findings whose lines intersect a changed line are reported. */
  changed?: (startLine: number, endLine: number) => boolean
  /** What the file's project registers; undefined skips `plugins-registered`. */
  projectRegistrations?: Registrations
  /** Which @o11y plugins the project registers; with all three, routes are observed in the default mode. */
  projectPlugins?: PluginCoverage
  projectName?: string
}

export interface FileAnalysis {
  findings: Finding[]
  handlers: HandlerCoverage[]
  suppressed: number
}

/** What a file registers, for `plugins-registered` (the caller merges this over a project). */
export function scanRegistrations (file: string, text: string): Registrations {
  return scanFacts(collectFacts(parse(file, text))).registrations
}

/** What a file registers, and which @o11y plugins it registers (for route coverage). */
export function scanProjectFile (file: string, text: string): ProjectScan {
  return file.endsWith('package.json') ? scanPackageJson(text) : scanFacts(collectFacts(parse(file, text)))
}

function fingerprintOf (ruleId: string, file: string, anchor: string, occurrence: number): string {
  return createHash('sha256').update(`${ruleId}\u0000${file}\u0000${anchor}\u0000${occurrence}`).digest('hex').slice(0, 32)
}

interface Raw extends Problem { ruleId: RuleId, start: number, end: number }

export function analyzeFile (input: AnalyzeInput): FileAnalysis {
  const known = new Set<string>(RULE_MODULES.map((r) => r.meta.id))
  const project = input.projectRegistrations === undefined
    ? undefined
    : { name: input.projectName, registrations: input.projectRegistrations, plugins: input.projectPlugins }
  const view = buildView({ file: input.file, text: input.text, rules: input.rules, changed: input.changed, project, knownRules: known })
  const { sf } = view

  const handlers: HandlerCoverage[] = view.checked.map((h) => ({
    file: input.file,
    line: lineOf(sf, h.route.call.getStart(sf)),
    route: h.route.label,
    categories: CATEGORIES.filter((c) => h.present.has(c)),
    ...(h.fromPlugins.size > 0 ? { plugins: CATEGORIES.filter((c) => h.fromPlugins.has(c)) } : {})
  }))

  const raw: Raw[] = []
  for (const rule of RULE_MODULES) {
    const ruleId = rule.meta.id
    if (input.rules.severity(ruleId) === 'off') continue
    rule.check(view, (p) => {
      const start = p.node !== undefined ? p.node.getStart(sf) : p.pos ?? 0
      const end = p.node !== undefined ? p.node.getEnd() : p.end ?? start
      raw.push({ ...p, ruleId, start, end })
    })
  }

  const inChange = (span: [number, number][]): boolean =>
    input.changed === undefined || span.some(([a, b]) => input.changed?.(a, b) === true)
  const suppressedBy = (f: Raw): boolean => {
    if (f.unsuppressible === true) return false
    const line = lineOf(sf, f.start)
    return view.directives.some((d) => (d.line === line || (f.alsoSuppressedAt !== undefined && lineOf(sf, d.pos) === f.alsoSuppressedAt)) &&
      d.reason.length > 0 && d.rules.includes(f.ruleId) && d.rules.every((r) => known.has(r)))
  }

  const findings: Finding[] = []
  const occurrences = new Map<string, number>()
  let suppressed = 0
  raw.sort((a, b) => a.start - b.start)
  for (const f of raw) {
    if (!inChange(f.span)) continue
    if (suppressedBy(f)) { suppressed++; continue }
    const s = sf.getLineAndCharacterOfPosition(f.start)
    const e = sf.getLineAndCharacterOfPosition(f.end)
    const key = `${f.ruleId}\u0000${f.anchor}`
    const n = occurrences.get(key) ?? 0
    occurrences.set(key, n + 1)
    const rule = RULE_MODULES.find((r) => r.meta.id === f.ruleId)
    findings.push({
      ruleId: f.ruleId,
      severity: input.rules.severity(f.ruleId) as Severity,
      file: input.file,
      line: s.line + 1,
      column: s.character + 1,
      endLine: e.line + 1,
      endColumn: e.character + 1,
      message: f.message,
      fix: rule?.meta.fix ?? '',
      fingerprint: fingerprintOf(f.ruleId, input.file, f.anchor, n)
    })
  }

  findings.sort((a, b) => a.line - b.line || a.column - b.column || (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0))
  return { findings, handlers, suppressed }
}
