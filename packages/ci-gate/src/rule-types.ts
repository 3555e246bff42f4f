// The shape of a rule module (src/rules/<id>.ts): its metadata and its check over a file's view.

import type ts from 'typescript'
import type { Severity } from './constants'
import type { FileView } from './view/index'

export interface RuleDocs {
  /** Fragment of the rule's entry in the README (and of the SARIF help link). */
  anchor: string
  /** README "Finds" column (Markdown). */
  finds: string
  /** README "Example that fails" column (Markdown). */
  fails: string
  /** README "Passes" column (Markdown). */
  passes: string
}

export interface RuleMeta {
  /** Equal to the module's file name without extension. */
  id: string
  defaultSeverity: Severity
  /** One sentence; the part before the first `: ` is the SARIF short description. */
  description: string
  /** How to fix a finding, shown under it. */
  fix: string
  docs: RuleDocs
}

export interface Problem {
  /** What the finding points at; or give `pos` and `end`. */
  node?: ts.Node
  pos?: number
  end?: number
  /** Lines (1-based) that decide whether the finding is part of a change. */
  span: [number, number][]
  /** What the finding is about, for the fingerprint (no line numbers). */
  anchor: string
  message: string
  /** A directive written on this line also suppresses the finding (besides one targeting its first line). */
  alsoSuppressedAt?: number
  /** Findings about directives themselves cannot be suppressed. */
  unsuppressible?: boolean
}

export interface Rule {
  meta: RuleMeta
  /** Reports every problem in the file; the caller applies severity, suppressions and the diff. */
  check: (view: FileView, report: (problem: Problem) => void) => void
}
