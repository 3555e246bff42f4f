import { stdSerializers } from 'pino'
import { CIRCULAR, REDACT_MAX_DEPTH, TRUNCATED } from './constants'
import { isDbError, reducedDbErrorFields } from './db-error'
import { ERROR_CODES, LoggingError, describe } from './errors'

/**
 * Redaction by names and paths matched at any depth.
 *
 * pino's own `redact` (fast-redact) compiles fixed paths; "a field whose name contains token
 * wherever the caller puts it" would need one generated path per depth and per parent, and still
 * misses arrays, deeper nesting and name patterns. Instead, each record is walked once before it is
 * serialized. The decision for a field name is compiled once and remembered (a bounded map from
 * the name as written to the rules whose last segment matches it), so a record whose keys were
 * seen before costs one map lookup per key, with no lower-casing or pattern matching; objects are
 * copied only on the way to a redacted value (caller objects are never mutated).
 */

/** One segment of a rule: an exact lower-case name, a name pattern, or any name (`*`). */
type Segment = { kind: 'exact', name: string } | { kind: 'glob', pattern: RegExp } | { kind: 'any' }
type Rule = readonly Segment[]

export interface Redaction {
  /** Redacts a record in place (it is the logger's own fresh object), leaving `untouched` keys alone. */
  record: (record: Record<string, unknown>, untouched: ReadonlySet<string>, serialized: ReadonlySet<string>) => Record<string, unknown>
  /** Redacts child bindings, copying instead of mutating the caller's object. */
  bindings: (bindings: Record<string, unknown>, serialized: ReadonlySet<string>) => Record<string, unknown>
  /** Returns `value` (a serializer's output for top-level field `key`) or a redacted copy of it. */
  value: (value: unknown, key: string) => unknown
  /** Whether a top-level field named `key` is redacted whatever its value (a rule of one segment matches it). */
  matchesField: (key: string) => boolean
}

/** Names remembered per redaction instance; beyond it decisions are computed, not stored. */
const DECISION_CACHE_SIZE = 10_000

/**
 * Parses one redaction path: segments separated by `.`, a segment in brackets and quotes
 * (`headers["set-cookie"]`) for names with dots; in a segment `*` stands for any run of characters
 * and `?` for one character (`*token*`, `*api?key*`; a lone `*` is any key). Lower-cased.
 */
export function parsePath (path: unknown): string[] {
  if (typeof path !== 'string' || path.length === 0) {
    throw new LoggingError(ERROR_CODES.INVALID_REDACT_PATH, `option "redact.paths" must contain non-empty strings (got ${describe(path)})`)
  }
  const fail = (why: string): never => {
    throw new LoggingError(ERROR_CODES.INVALID_REDACT_PATH, `option "redact.paths" contains an invalid path ${JSON.stringify(path)}: ${why}`)
  }
  const segments: string[] = []
  let i = 0
  while (i < path.length) {
    let segment: string
    if (path[i] === '[') {
      const quote = path[i + 1]
      if (quote !== '"' && quote !== "'") fail('a bracket must hold a quoted name, e.g. ["set-cookie"] (array indices are not used: arrays are matched element by element)')
      const end = path.indexOf(quote as string, i + 2)
      if (end === -1 || path[end + 1] !== ']') fail('unterminated bracket')
      segment = path.slice(i + 2, end)
      i = end + 2
    } else {
      let j = i
      while (j < path.length && path[j] !== '.' && path[j] !== '[') j++
      segment = path.slice(i, j)
      if (/["'\]]/.test(segment)) fail('quotes and brackets belong in ["..."] segments')
      i = j
    }
    if (segment.length === 0) fail('empty segment')
    segments.push(segment.toLowerCase())
    if (i < path.length) {
      if (path[i] === '.') {
        i++
        if (i === path.length) fail('trailing dot')
      } else if (path[i] !== '[') {
        fail('a bracket segment must be followed by "." or "["')
      }
    }
  }
  return segments
}

const PINO_ERROR_PROTOS = new Set<unknown>([
  Object.getPrototypeOf(stdSerializers.err(new Error('probe'))),
  Object.getPrototypeOf(stdSerializers.errWithCause(new Error('probe')))
])

/** Summary of an HTTP request: method, url, host, remote address and port; never headers. */
export function summarizeRequest (req: any): Record<string, unknown> {
  return {
    method: req.method,
    url: req.url,
    host: req.host ?? req.headers?.host,
    remoteAddress: req.ip ?? req.socket?.remoteAddress,
    remotePort: req.socket?.remotePort
  }
}

/** Summary of an HTTP response: the status code; never headers. */
export function summarizeResponse (res: any): Record<string, unknown> {
  return { statusCode: res.statusCode }
}

export function isRequestLike (value: any): boolean {
  return Boolean(value.method && value.headers && value.socket)
}

export function isResponseLike (value: any): boolean {
  return typeof value.setHeader === 'function' || typeof value.raw?.setHeader === 'function'
}

/** Plain data that `JSON.stringify` writes key by key and this module therefore inspects. */
export function isInspectable (value: object): boolean {
  const proto = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null || Array.isArray(value)) return true
  return value instanceof Error || PINO_ERROR_PROTOS.has(proto)
}

function compileSegment (segment: string): Segment {
  if (segment === '*') return { kind: 'any' }
  if (!segment.includes('*') && !segment.includes('?')) return { kind: 'exact', name: segment }
  const source = segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return { kind: 'glob', pattern: new RegExp(`^${source}$`, 'i') }
}

function segmentMatches (segment: Segment, key: string): boolean {
  switch (segment.kind) {
    case 'any': return true
    case 'exact': return key.toLowerCase() === segment.name
    default: return segment.pattern.test(key)
  }
}

export interface RedactionSettings {
  paths: readonly string[]
  censor: string
  /** Replace database errors found at any depth by their code and class (see db-error.ts). */
  reduceDbErrors: boolean
}

export function compileRedaction (settings: RedactionSettings): Redaction | null {
  const { paths, censor, reduceDbErrors } = settings
  if (paths.length === 0 && !reduceDbErrors) return null
  const byLast = new Map<string, Rule[]>()
  const globLast: Rule[] = []
  const anyLast: Rule[] = []
  for (const path of paths) {
    const rule = parsePath(path).map(compileSegment)
    const last = rule[rule.length - 1] as Segment
    if (last.kind === 'any') {
      anyLast.push(rule)
    } else if (last.kind === 'glob') {
      globLast.push(rule)
    } else {
      const list = byLast.get(last.name)
      if (list === undefined) byLast.set(last.name, [rule])
      else list.push(rule)
    }
  }

  // Per field name as written: `true` when a one-segment rule matches it (the common case: the
  // default patterns), else the longer rules whose last segment matches it, or `false`.
  const decisions = new Map<string, boolean | Rule[]>()
  const decide = (key: string): boolean | Rule[] => {
    let decision = decisions.get(key)
    if (decision !== undefined) return decision
    const candidates = [...(byLast.get(key.toLowerCase()) ?? []), ...globLast.filter((rule) => segmentMatches(rule[rule.length - 1] as Segment, key)), ...anyLast]
    decision = candidates.length === 0 ? false : candidates.some((rule) => rule.length === 1) ? true : candidates
    if (decisions.size < DECISION_CACHE_SIZE) decisions.set(key, decision)
    return decision
  }

  const matches = (path: readonly string[]): boolean => {
    const decision = decide(path[path.length - 1] as string)
    if (typeof decision === 'boolean') return decision
    outer: for (const rule of decision) {
      if (rule.length > path.length) continue
      for (let i = 2; i <= rule.length; i++) {
        if (!segmentMatches(rule[rule.length - i] as Segment, path[path.length - i] as string)) continue outer
      }
      return true
    }
    return false
  }

  // `path` holds the keys (as written) from the record down to the current key (array indices are
  // not part of it: an element is matched like the array that holds it). `active` holds the
  // objects being walked: a reference back to one of them becomes "[Circular]", as pino would
  // write it, because a copy made for redaction would otherwise point back to the unredacted
  // original.
  const walk = (value: unknown, path: string[], depth: number, active: object[]): unknown => {
    if (typeof value !== 'object' || value === null) return value
    if (depth > REDACT_MAX_DEPTH) return TRUNCATED
    if (active.includes(value)) return CIRCULAR
    if (Array.isArray(value)) {
      active.push(value)
      let copy: unknown[] | undefined
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i]
        const result = walk(item, path, depth + 1, active)
        if (result !== item) {
          copy ??= value.slice()
          copy[i] = result
        }
      }
      active.pop()
      return copy ?? value
    }
    // Real errors only: a serializer's output (pino's error objects) was reduced by the serializer.
    if (reduceDbErrors && value instanceof Error && isDbError(value)) return reducedDbErrorFields(value as Error & Record<string, unknown>)
    if (!isInspectable(value)) {
      if (typeof (value as any).toJSON === 'function') return value
      if (isRequestLike(value)) return walk(summarizeRequest(value), path, depth, active)
      if (isResponseLike(value)) return summarizeResponse(value)
      return value
    }
    active.push(value)
    let copy: Record<string, unknown> | undefined
    const source = value as Record<string, unknown>
    for (const key of Object.keys(source)) {
      const item = source[key]
      if (item === undefined) continue
      path.push(key)
      const result = matches(path) ? censor : walk(item, path, depth + 1, active)
      path.pop()
      if (result !== item) {
        copy ??= { ...source }
        copy[key] = result
      }
    }
    active.pop()
    return copy ?? value
  }

  // Top-level fields: `untouched` keys are left as they are (the logger's own fields), `serialized`
  // keys are matched but not walked (their serializer's output is walked instead, so that the
  // serializer still receives the original Error or request object).
  // A top-level key is matched by rules of one segment only, so `decide(key) === true` is all a
  // field needs; the walk (and its path and cycle arrays) is only for objects, which most log
  // lines' fields are not.
  const fields = (source: Record<string, unknown>, inPlace: boolean, untouched: ReadonlySet<string>, serialized: ReadonlySet<string>): Record<string, unknown> => {
    let target = source
    let path: string[] | undefined
    let active: object[] | undefined
    for (const key in source) {
      if (!Object.prototype.hasOwnProperty.call(source, key) || untouched.has(key)) continue
      const item = source[key]
      if (item === undefined) continue
      let result: unknown
      if (decide(key) === true) {
        result = censor
      } else if (typeof item !== 'object' || item === null || serialized.has(key)) {
        result = item
      } else {
        path ??= []
        active ??= [source]
        path.push(key)
        result = walk(item, path, 1, active)
        path.pop()
      }
      if (result !== item) {
        if (target === source && !inPlace) target = { ...source }
        target[key] = result
      }
    }
    return target
  }

  return {
    record: (record, untouched, serialized) => fields(record, true, untouched, serialized),
    bindings: (bindings, serialized) => fields(bindings, false, EMPTY, serialized),
    value: (value, key) => walk(value, [key], 1, []),
    matchesField: (key) => decide(key) === true
  }
}

const EMPTY: ReadonlySet<string> = new Set()
