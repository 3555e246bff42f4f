// The rule registry is the src/rules folder: every module in it is one rule, named after its id.
// The rule list, the config schema, the SARIF rule metadata and the README table derive from it.
// Adding a rule is adding src/rules/<id>.ts, its fixture and its test; nothing here changes.

import { readdirSync } from 'node:fs'
import { basename, extname, join } from 'node:path'
import { SEVERITIES } from './constants'
import type { Rule, RuleMeta } from './rule-types'

/** src/rules under tap (TypeScript), dist/rules once built. */
export const RULES_DIR = join(__dirname, 'rules')
const EXT = extname(__filename)

/** Loads every rule module of `dir`, sorted by id; a module whose meta does not fit throws. */
export function loadRules (dir: string = RULES_DIR): Rule[] {
  const files = readdirSync(dir).filter((f) => f.endsWith(EXT) && !f.endsWith(`.d${EXT}`)).sort()
  return files.map((f) => {
    const id = basename(f, EXT)
    const mod = require(join(dir, f)) as { rule?: Rule }
    const rule = mod.rule
    if (rule === undefined || typeof rule.check !== 'function') throw new Error(`rules/${f} exports no \`rule\` with a check`)
    const m = rule.meta
    if (m.id !== id) throw new Error(`rules/${f} declares the id "${m.id}"; a rule's id is its file name`)
    if (!(SEVERITIES as readonly string[]).includes(m.defaultSeverity) || m.description === '' || m.fix === '' || m.docs.anchor === '') {
      throw new Error(`rules/${f}: meta needs a severity, a description, a fix and a docs anchor`)
    }
    return rule
  })
}

export const RULE_MODULES: readonly Rule[] = loadRules()
export const RULES: readonly RuleMeta[] = RULE_MODULES.map((r) => r.meta)
export const RULES_BY_ID: ReadonlyMap<string, RuleMeta> = new Map(RULES.map((r) => [r.id, r]))

/** Rule ids by camel-cased name: `RULE_IDS.routeInstrumented === 'route-instrumented'`. */
export const RULE_IDS: Readonly<Record<string, string>> = Object.fromEntries(
  RULES.map((r) => [r.id.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase()), r.id]))

export function ruleMeta (id: string): RuleMeta {
  const meta = RULES_BY_ID.get(id)
  /* c8 ignore next */
  if (meta === undefined) throw new Error(`unknown rule ${id}`)
  return meta
}
