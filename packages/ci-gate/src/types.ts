import type { RunResult } from '@o11y/cli-kit'
import type { Category, RuleId, Severity, SeverityOrOff } from './constants'

export interface Finding {
  ruleId: RuleId
  severity: Severity
  /** Path relative to the root (the git top level, or cwd outside a repository), `/` separators. */
  file: string
  line: number
  column: number
  endLine: number
  endColumn: number
  message: string
  /** How to fix it, one sentence. */
  fix: string
  /** Stable across line shifts: rule, file, what the finding is about, occurrence. */
  fingerprint: string
}

export interface HandlerCoverage {
  file: string
  line: number
  route: string
  /** Categories found in the handler itself (and the same-file functions it calls). */
  categories: Category[]
  /** Categories the project's registered @o11y plugins give this route (default mode only). */
  plugins?: Category[]
}

export interface Report {
  findings: Finding[]
  /** Route handlers that were checked by `route-instrumented` and the categories each one has. */
  handlers: HandlerCoverage[]
  filesChecked: number
  suppressed: number
  baselined: number
}

export type RequiredCategories = 'any' | 'all' | Category[]

export interface RuleSettings {
  rules: Partial<Record<RuleId, SeverityOrOff>>
  requiredCategories?: RequiredCategories
}

export interface Override extends RuleSettings {
  files: string[]
}

export interface GateConfig {
  include?: string[]
  exclude?: string[]
  defaultExcludes?: boolean
  requiredCategories?: RequiredCategories
  rules?: Partial<Record<RuleId, SeverityOrOff>>
  overrides?: Override[]
}

export interface RunIO {
  cwd?: string
  env?: NodeJS.ProcessEnv
}

/** The shared CLI result (`{ exitCode, stdout, stderr }`, @o11y/cli-kit) plus what o11y-gate found. */
export interface GateResult extends RunResult {
  report?: Report
  /** Set when exitCode is 2. */
  error?: { code: string, message: string }
}
