// What a project registers: the @o11y packages (for `plugins-registered`) and which of them are
// registered as Fastify plugins, which give every route RED metrics, a SERVER span and a request
// line (for `route-instrumented`). The caller merges the answers of every file of a project.

import ts from 'typescript'
import { O11Y_PACKAGES } from '../constants'
import { calleeName, fromPackage, requireSpecifier, rootIdentifier, unwrap, walk } from './ast'
import type { FileFacts } from './facts'

/** Which @o11y packages a project sets up (the logging logger counts for `logging`). */
export interface Registrations {
  metrics: boolean
  tracing: boolean
  logging: boolean
}

/** Which @o11y plugins cover every route: registered with `register(...)`, or the tracing register entry. */
export type PluginCoverage = Registrations

export interface ProjectScan { registrations: Registrations, plugins: PluginCoverage }

export function emptyScan (): ProjectScan {
  return { registrations: { metrics: false, tracing: false, logging: false }, plugins: { metrics: false, tracing: false, logging: false } }
}

export function mergeScan (into: ProjectScan, from: ProjectScan): void {
  for (const k of ['metrics', 'tracing', 'logging'] as const) {
    into.registrations[k] ||= from.registrations[k]
    into.plugins[k] ||= from.plugins[k]
  }
}

export function scanFacts (facts: FileFacts): ProjectScan {
  const scan = emptyScan()
  const pkgOf = (expr: ts.Expression | undefined): string | undefined => {
    if (expr === undefined) return undefined
    const inline = requireSpecifier(expr)
    if (inline !== undefined) return inline
    const root = rootIdentifier(expr)
    return root !== undefined ? facts.imports.get(root) : undefined
  }
  walk(facts.sf, (node) => {
    if (!ts.isCallExpression(node)) return
    if (calleeName(node) === 'register') {
      const spec = pkgOf(node.arguments[0])
      for (const k of ['metrics', 'tracing', 'logging'] as const) {
        if (fromPackage(spec, O11Y_PACKAGES[k])) { scan.registrations[k] = true; scan.plugins[k] = true }
      }
    }
    const callee = unwrap(node.expression)
    if (ts.isIdentifier(callee) && (callee.text === 'fastifyLoggerOptions' || callee.text === 'createLogger') &&
      fromPackage(facts.imports.get(callee.text), O11Y_PACKAGES.logging)) scan.registrations.logging = true
  })
  return scan
}

const TRACING_REGISTER = new RegExp(`(?:--import|--require|-r)(?:=|\\s+)['"]?${O11Y_PACKAGES.tracing.replace('/', '\\/')}/register\\b`)

/** A package.json whose scripts start Node with `--import @o11y/tracing/register` (or `--require`, `-r`). */
export function scanPackageJson (text: string): ProjectScan {
  const scan = emptyScan()
  let scripts: unknown
  try {
    scripts = (JSON.parse(text) as { scripts?: unknown }).scripts
  } catch {
    // o11y-gate-ignore error-observed: a broken package.json starts nothing; npm reports it itself
    return scan
  }
  if (scripts === null || typeof scripts !== 'object') return scan
  for (const command of Object.values(scripts)) {
    if (typeof command === 'string' && TRACING_REGISTER.test(command)) {
      scan.registrations.tracing = true
      scan.plugins.tracing = true
    }
  }
  return scan
}

export function createsFastify (facts: FileFacts): ts.CallExpression | undefined {
  let found: ts.CallExpression | undefined
  walk(facts.sf, (node) => {
    if (found !== undefined || !ts.isCallExpression(node)) return
    const callee = unwrap(node.expression)
    if (ts.isIdentifier(callee) && facts.imports.get(callee.text) === 'fastify') found = node
    else if (requireSpecifier(callee) === 'fastify') found = node
    else if (ts.isPropertyAccessExpression(callee) && callee.name.text === 'fastify' && ts.isIdentifier(callee.expression) &&
      facts.imports.get(callee.expression.text) === 'fastify') found = node
  })
  return found
}

export function hasRegisterCall (facts: FileFacts): boolean {
  let found = false
  walk(facts.sf, (node) => {
    if (!found && ts.isCallExpression(node) && calleeName(node) === 'register' && ts.isPropertyAccessExpression(unwrap(node.expression))) found = true
  })
  return found
}
