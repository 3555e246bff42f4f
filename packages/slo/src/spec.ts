import { readFileSync } from 'node:fs'
import Ajv from 'ajv'
import type { ErrorObject } from 'ajv'
import { parseDocument } from 'yaml'
import { METRIC_NAMES } from '@o11y/semconv'
import { DEFAULT_BUCKETS, DEFAULTS, DOCS_BASE_URL, RUNBOOK_BASE_ENV, RUNBOOK_PAGE, type SELECTOR_LABELS, type SLI_KINDS, type HTTP_METHODS } from './constants'
import { ERROR_CODES, SloError } from './errors'
import { SPEC_SCHEMA } from './schema'

export type SliKind = typeof SLI_KINDS[number]
export type SelectorLabel = typeof SELECTOR_LABELS[number]
export type HttpMethod = typeof HTTP_METHODS[number]

/** One objective as written in the spec file. */
export interface SloInput {
  name: string
  description?: string
  sli: SliKind
  objective: number
  threshold?: number
  route?: string
  method?: HttpMethod
  minRequests?: number
}

/** A spec file as written. */
export interface SpecInput {
  version: 1
  service: string
  window?: string
  selectorLabel?: SelectorLabel
  buckets?: number[]
  minRequests?: number
  runbookUrl?: string
  slos: SloInput[]
}

/** One objective after validation, with defaults applied and the derived ratios. */
export interface Slo {
  name: string
  description: string | undefined
  sli: SliKind
  /** Percent, as written (99.9). */
  objective: number
  /** 0.999 */
  objectiveRatio: number
  /** Share of requests allowed to be bad over the window: 0.001 */
  errorBudget: number
  threshold: number | undefined
  route: string | undefined
  method: HttpMethod | undefined
  minRequests: number
}

/** A validated spec with every default applied. */
export interface Spec {
  service: string
  /** Normalised to days: `30d`. */
  window: string
  windowDays: number
  selectorLabel: SelectorLabel
  buckets: number[]
  runbookUrl: string
  slos: Slo[]
}

const ajv = new Ajv({ allErrors: true, strict: true })
const validateSchema = ajv.compile(SPEC_SCHEMA)

/** Avoid binary noise such as 0.0009999999999999432 in generated rules: 12 significant digits are plenty. */
export function round (value: number): number {
  return Number(value.toPrecision(12))
}

/** `/slos/0/objective` -> `slos[0].objective` */
function fieldPath (pointer: string, child?: string): string {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  if (child !== undefined) parts.push(child)
  let out = ''
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : (out ? `.${part}` : part)
  return out || '(root)'
}

function schemaError (err: ErrorObject, file: string | undefined): SloError {
  const params = err.params as Record<string, unknown>
  if (err.keyword === 'required') {
    const missing = String(params.missingProperty)
    return new SloError(ERROR_CODES.MISSING_FIELD, `required field "${missing}" is missing`, { path: fieldPath(err.instancePath, missing), file })
  }
  if (err.keyword === 'additionalProperties') {
    const extra = String(params.additionalProperty)
    return new SloError(ERROR_CODES.UNKNOWN_FIELD, `unknown field "${extra}" (check its spelling against the spec reference)`, { path: fieldPath(err.instancePath, extra), file })
  }
  let message = err.message ?? 'is invalid'
  if (err.keyword === 'enum') message = `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
  if (err.keyword === 'const') message = `must be ${JSON.stringify(params.allowedValue)}`
  return new SloError(ERROR_CODES.INVALID_FIELD, message, { path: fieldPath(err.instancePath), file })
}

/** Parse `30d`, `4w` into days. */
function windowDays (window: string, file: string | undefined): number {
  const match = /^([1-9]\d*)([dw])$/.exec(window)
  const days = match ? Number(match[1]) * (match[2] === 'w' ? 7 : 1) : NaN
  if (!(days >= 3 && days <= 365)) {
    throw new SloError(ERROR_CODES.WINDOW, `window "${window}" must be whole days or weeks between 3d (the longest alert window) and 365d, for example 30d or 4w`, { path: 'window', file })
  }
  return days
}

/**
 * Validate a parsed spec object and apply defaults. Throws SloError naming the field on the first problem.
 * `file` is only used in messages.
 */
/**
 * The runbook page of the alerts: `<base>/slo.md` where base is O11Y_RUNBOOK_BASE_URL (for teams
 * that host their own runbooks) or the project's docs.
 */
export function defaultRunbookUrl (env: NodeJS.ProcessEnv = process.env): string {
  const base = env[RUNBOOK_BASE_ENV]
  if (base === undefined || base === '') return `${DOCS_BASE_URL}/${RUNBOOK_PAGE}`
  if (!/^https?:\/\/[^\s#?]+$/.test(base)) {
    throw new SloError(ERROR_CODES.RUNBOOK_BASE_URL, `${RUNBOOK_BASE_ENV} must be an http(s) URL without query or fragment, got ${JSON.stringify(base.slice(0, 200))}`)
  }
  return `${base.replace(/\/+$/, '')}/${RUNBOOK_PAGE}`
}

export function validateSpec (input: unknown, file?: string): Spec {
  if (!validateSchema(input)) {
    const errors = validateSchema.errors ?? []
    throw schemaError(errors[0] as ErrorObject, file)
  }
  const spec = input as unknown as SpecInput
  const window = spec.window ?? DEFAULTS.window
  const days = windowDays(window, file)

  const buckets = spec.buckets ?? [...DEFAULT_BUCKETS]
  buckets.forEach((bound, i) => {
    if (!(Number.isFinite(bound) && bound > 0) || (i > 0 && bound <= (buckets[i - 1] as number))) {
      throw new SloError(ERROR_CODES.BUCKETS, `bucket bound ${bound} must be a positive number greater than the one before it (bounds are listed in increasing order, without +Inf)`, { path: `buckets[${i}]`, file })
    }
  })

  const names = new Map<string, number>()
  const slos = spec.slos.map((slo, i): Slo => {
    const at = (field: string): string => `slos[${i}].${field}`
    const first = names.get(slo.name)
    if (first !== undefined) {
      throw new SloError(ERROR_CODES.DUPLICATE_NAME, `SLO name "${slo.name}" is already used by slos[${first}]; names must be unique within a spec`, { path: at('name'), file })
    }
    names.set(slo.name, i)
    if (!(slo.objective > 1 && slo.objective < 100)) {
      const hint = slo.objective > 0 && slo.objective <= 1 ? ` (it is a percentage: write ${round(slo.objective * 100)} rather than ${slo.objective})` : ''
      throw new SloError(ERROR_CODES.OBJECTIVE, `objective ${slo.objective} must be a percentage above 1 and below 100${hint}`, { path: at('objective'), file })
    }
    if (slo.sli === 'latency') {
      if (slo.threshold === undefined) {
        throw new SloError(ERROR_CODES.MISSING_FIELD, 'a latency SLI needs a "threshold" in seconds (one of the histogram bucket bounds)', { path: at('threshold'), file })
      }
      if (!buckets.includes(slo.threshold)) {
        throw new SloError(ERROR_CODES.THRESHOLD, `threshold ${slo.threshold}s is not a bucket bound of ${METRIC_NAMES.requestDuration}; use one of ${buckets.join(', ')} (or declare the service's custom "buckets")`, { path: at('threshold'), file })
      }
    } else if (slo.threshold !== undefined) {
      throw new SloError(ERROR_CODES.UNKNOWN_FIELD, '"threshold" only applies to latency SLIs (sli: latency)', { path: at('threshold'), file })
    }
    const objectiveRatio = round(slo.objective / 100)
    return {
      name: slo.name,
      description: slo.description,
      sli: slo.sli,
      objective: slo.objective,
      objectiveRatio,
      errorBudget: round((100 - slo.objective) / 100),
      threshold: slo.threshold,
      route: slo.route,
      method: slo.method,
      minRequests: slo.minRequests ?? spec.minRequests ?? DEFAULTS.minRequests
    }
  })

  return {
    service: spec.service,
    window: `${days}d`,
    windowDays: days,
    selectorLabel: spec.selectorLabel ?? DEFAULTS.selectorLabel,
    buckets,
    runbookUrl: spec.runbookUrl ?? defaultRunbookUrl(),
    slos
  }
}

/** Parse YAML text and validate it. */
export function parseSpec (text: string, file?: string): Spec {
  const doc = parseDocument(text)
  const first = doc.errors[0]
  if (first) {
    // The pretty message ends with a code frame; its first line already says where.
    throw new SloError(ERROR_CODES.SPEC_YAML, `not valid YAML: ${first.message.split('\n')[0]}`, { file })
  }
  return validateSpec(doc.toJS(), file)
}

/** Read, parse and validate a spec file. */
export function loadSpec (file: string): Spec {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new SloError(ERROR_CODES.SPEC_READ, `cannot read the spec file: ${(err as Error).message}`, { file })
  }
  return parseSpec(text, file)
}
