// Configuration: `.o11y-gate.json` or package.json#o11yGate, found from the working directory
// upwards (or given with --config), validated once with a JSON schema. Any problem is one line
// naming the file and the key.

import Ajv, { type ErrorObject } from 'ajv'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, parse as parsePath, relative, resolve } from 'node:path'
import { CATEGORIES, CONFIG_FILE, DEFAULT_EXCLUDES, PACKAGE_JSON_KEY, SEVERITIES, type RuleId, type SeverityOrOff } from './constants'
import { configError } from './errors'
import { matchesAny } from './glob'
import { RULES } from './registry'
import type { GateConfig, RequiredCategories } from './types'

const globs = { type: 'array', items: { type: 'string', minLength: 1 } }
const ruleSeverities = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(RULES.map((r) => [r.id, { enum: [...SEVERITIES] }]))
}
const requiredCategories = {
  anyOf: [
    { enum: ['any', 'all'] },
    { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...CATEGORIES] } }
  ]
}

export const CONFIG_SCHEMA = {
  // An identifier, not a location: nothing is fetched from it.
  $id: 'urn:o11y:ci-gate:config',
  title: 'o11y-gate configuration',
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    $comment: { type: 'string' },
    include: globs,
    exclude: globs,
    defaultExcludes: { type: 'boolean' },
    requiredCategories,
    rules: ruleSeverities,
    overrides: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['files'],
        properties: { files: { ...globs, minItems: 1 }, rules: ruleSeverities, requiredCategories }
      }
    }
  }
} as const

const DEFAULT_INCLUDE = ['**/*.{ts,mts,cts,js,mjs,cjs}']

let validator: ReturnType<Ajv['compile']> | undefined

function validate (value: unknown, source: string): GateConfig {
  validator ??= new Ajv({ allErrors: false, strict: true }).compile(CONFIG_SCHEMA)
  if (validator(value)) return value as GateConfig
  const err = (validator.errors ?? [])[0] as ErrorObject
  throw configError(`invalid configuration in ${source}: ${describe(err)}`)
}

function keyPath (instancePath: string): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  let out = ''
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : (out === '' ? p : `.${p}`)
  return out
}

function describe (err: ErrorObject): string {
  const at = keyPath(err.instancePath)
  if (/(^|\.)requiredCategories$/.test(at) || /requiredCategories\[\d+\]$/.test(at)) {
    return `"${at}" must be "any", "all" or a list of ${CATEGORIES.map((c) => `"${c}"`).join(', ')}`
  }
  switch (err.keyword) {
    case 'additionalProperties': {
      const key = String((err.params as { additionalProperty: string }).additionalProperty)
      return `unknown key "${at === '' ? key : `${at}.${key}`}"`
    }
    case 'enum':
      return `"${at}" must be one of ${((err.params as { allowedValues: unknown[] }).allowedValues).map((v) => JSON.stringify(v)).join(', ')}`
    case 'required':
      return `"${at === '' ? '(root)' : at}" is missing the key "${(err.params as { missingProperty: string }).missingProperty}"`
    case 'type':
      return `"${at === '' ? '(root)' : at}" must be ${(err.params as { type: string }).type === 'object' ? 'an object' : `of type ${(err.params as { type: string }).type}`}`
    default:
      return `"${at === '' ? '(root)' : at}" ${err.message ?? 'is invalid'}`
  }
}

export interface LoadedConfig {
  config: GateConfig
  /** The file it came from (`package.json#o11yGate` for a package.json), or undefined for defaults. */
  source: string | undefined
  /** Globs are relative to this directory. */
  dir: string
}

function readJson (file: string, label: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw configError(`cannot read ${label}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw configError(`${label} is not valid JSON: ${(err as Error).message}`)
  }
}

/** --config FILE, else the first directory from `cwd` up to `stopAt` (or the file-system root) holding a config. */
export function loadConfig (cwd: string, explicit: string | undefined, stopAt: string | undefined): LoadedConfig {
  if (explicit !== undefined) {
    const file = resolve(cwd, explicit)
    if (!existsSync(file)) throw configError(`config file ${explicit} does not exist`)
    const json = readJson(file, explicit)
    const isPkg = parsePath(file).base === 'package.json'
    const value = isPkg ? (json as Record<string, unknown>)[PACKAGE_JSON_KEY] ?? {} : json
    return { config: validate(value, isPkg ? `${explicit}#${PACKAGE_JSON_KEY}` : explicit), source: file, dir: dirname(file) }
  }
  let dir = resolve(cwd)
  const stop = stopAt !== undefined ? resolve(stopAt) : undefined
  for (;;) {
    const file = join(dir, CONFIG_FILE)
    if (existsSync(file)) {
      const label = relative(cwd, file) || CONFIG_FILE
      return { config: validate(readJson(file, label), label), source: file, dir }
    }
    const pkg = join(dir, 'package.json')
    if (existsSync(pkg)) {
      const label = relative(cwd, pkg) || 'package.json'
      const json = readJson(pkg, label) as Record<string, unknown>
      if (json !== null && typeof json === 'object' && PACKAGE_JSON_KEY in json) {
        return { config: validate(json[PACKAGE_JSON_KEY], `${label}#${PACKAGE_JSON_KEY}`), source: pkg, dir }
      }
    }
    const parent = dirname(dir)
    if (parent === dir || dir === stop) break
    dir = parent
  }
  return { config: {}, source: undefined, dir: stop ?? resolve(cwd) }
}

export interface ResolvedRules {
  severity: (rule: RuleId) => SeverityOrOff
  requiredCategories: RequiredCategories
  /** `--strict`, or `requiredCategories` set for the file: handlers need their own signals. */
  strict: boolean
}

export class Settings {
  readonly loaded: LoadedConfig
  private readonly strict: boolean
  private readonly include: string[]
  private readonly exclude: string[]

  constructor (loaded: LoadedConfig, strict: boolean) {
    this.loaded = loaded
    this.strict = strict
    const c = loaded.config
    this.include = c.include ?? DEFAULT_INCLUDE
    this.exclude = [...(c.defaultExcludes === false ? [] : DEFAULT_EXCLUDES), ...(c.exclude ?? [])]
  }

  /** Path of an absolute file relative to the config directory, `/` separators. */
  relative (abs: string): string {
    return relative(this.loaded.dir, abs).split('\\').join('/')
  }

  isIncluded (abs: string): boolean {
    const rel = this.relative(abs)
    return matchesAny(rel, this.include) && !matchesAny(rel, this.exclude)
  }

  /** A directory whose every file would be excluded, so the walk can skip it. */
  isExcludedDir (abs: string): boolean {
    const rel = this.relative(abs)
    return rel !== '' && matchesAny(`${rel}/o11y-gate-probe`, this.exclude) && matchesAny(`${rel}/o11y-gate-probe.ts`, this.exclude)
  }

  rulesFor (abs: string): ResolvedRules {
    const rel = this.relative(abs)
    const c = this.loaded.config
    const severities = new Map<RuleId, SeverityOrOff>(RULES.map((r) => [r.id, r.defaultSeverity]))
    for (const [k, v] of Object.entries(c.rules ?? {})) if (v !== undefined) severities.set(k, v)
    let required: RequiredCategories = c.requiredCategories ?? 'any'
    let configured = c.requiredCategories !== undefined
    for (const o of c.overrides ?? []) {
      if (!matchesAny(rel, o.files)) continue
      for (const [k, v] of Object.entries(o.rules ?? {})) if (v !== undefined) severities.set(k, v)
      if (o.requiredCategories !== undefined) { required = o.requiredCategories; configured = true }
    }
    if (this.strict) required = 'all'
    return { severity: (rule) => severities.get(rule) ?? 'off', requiredCategories: required, strict: this.strict || configured }
  }
}
