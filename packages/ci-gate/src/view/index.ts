// The precomputed view of one file that every rule reads: its syntax tree, facts, routes and the
// handlers checked for coverage, hooks and plugin functions, comments and suppression directives,
// and what its project registers. Built once per file; rules never parse or walk for these again.

import type ts from 'typescript'
import { CATEGORIES, type Category, type RuleId, type SeverityOrOff } from '../constants'
import type { RequiredCategories } from '../types'
import { linesOf, parse, type FunctionNode } from './ast'
import { collectFacts, type FileFacts } from './facts'
import { categoriesIn, doesRealWork } from './handlers'
import type { PluginCoverage, Registrations } from './registrations'
import { findHookFunctions, findPluginFunctions, findRoutes, optOutsOf, type Route } from './routes'
import { collectComments, parseDirectives, type Comment, type Directive } from './suppressions'

export interface FileRules {
  severity: (rule: RuleId) => SeverityOrOff
  requiredCategories: RequiredCategories
  /**
   * Ask every handler for its own signals and ignore what registered plugins give each route.
   * True with `--strict` and when the configuration sets `requiredCategories`.
   */
  strict?: boolean
}

export interface ProjectInfo {
  /** Shown in messages: the project's directory relative to the root. */
  name?: string
  /** What the project sets up, for `plugins-registered`. */
  registrations: Registrations
  /** Which @o11y plugins the project registers; all three cover every route in the default mode. */
  plugins?: PluginCoverage
}

export interface CheckedHandler {
  route: Route
  fn: FunctionNode
  /** Lines of the registration and of the handler function. */
  span: [number, number][]
  /** Categories found in the handler and the same-file functions it calls. */
  present: Set<Category>
  /** Categories the project's plugins give this route (empty in strict mode or without all three plugins). */
  fromPlugins: Set<Category>
}

export interface FileView {
  file: string
  sf: ts.SourceFile
  facts: FileFacts
  routes: Route[]
  /** Handler functions of the routes. */
  handlerFns: ReadonlySet<ts.Node>
  /** Route handlers that do real work and are part of the change: what `route-instrumented` judges. */
  checked: CheckedHandler[]
  hooks: ReadonlySet<ts.Node>
  plugins: ReadonlySet<ts.Node>
  comments: Comment[]
  directives: Directive[]
  rules: FileRules
  project: ProjectInfo | undefined
  /** Every rule id the registry knows. */
  knownRules: ReadonlySet<string>
}

export interface ViewInput {
  file: string
  text: string
  rules: FileRules
  changed?: (startLine: number, endLine: number) => boolean
  project?: ProjectInfo
  knownRules: ReadonlySet<string>
}

function pluginCategories (input: ViewInput, route: Route): Set<Category> {
  const plugins = input.project?.plugins
  if (input.rules.strict === true || plugins === undefined || !CATEGORIES.every((c) => plugins[c])) return new Set()
  const off = new Set(optOutsOf(route).map((o) => o.key))
  return new Set(CATEGORIES.filter((c) => !off.has(c)))
}

export function buildView (input: ViewInput): FileView {
  const sf = parse(input.file, input.text)
  const facts = collectFacts(sf)
  const routes = findRoutes(facts)
  const handlerFns = new Set<ts.Node>()
  const checked: CheckedHandler[] = []
  for (const route of routes) {
    const fn = route.handler
    if (fn === undefined) continue
    handlerFns.add(fn)
    if (!doesRealWork(fn)) continue
    const span = [linesOf(sf, route.call), linesOf(sf, fn)]
    if (input.changed !== undefined && !span.some(([a, b]) => input.changed?.(a, b) === true)) continue
    checked.push({ route, fn, span, present: categoriesIn(facts, fn), fromPlugins: pluginCategories(input, route) })
  }
  const comments = collectComments(sf)
  return {
    file: input.file,
    sf,
    facts,
    routes,
    handlerFns,
    checked,
    hooks: findHookFunctions(facts),
    plugins: findPluginFunctions(facts),
    comments,
    directives: parseDirectives(comments),
    rules: input.rules,
    project: input.project,
    knownRules: input.knownRules
  }
}

export type { Route, OptOut } from './routes'
export type { Registrations, PluginCoverage } from './registrations'
