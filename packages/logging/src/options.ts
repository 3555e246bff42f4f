import type { DestinationStream, Logger } from 'pino'
import {
  DEFAULT_CENSOR,
  DEFAULT_LEVEL,
  DEFAULT_LOGGER_NAME,
  DEFAULT_REDACT_PATHS,
  DEFAULT_REQUEST_ID_HEADER,
  LEVELS,
  LOG_FIELDS,
  RECORD_FIELDS
} from './constants'
import { ERROR_CODES, LoggingError, describe } from './errors'
import { parsePath } from './redact'

export type Level = typeof LEVELS[number]

/** Where lines go: a stream (anything with `write(string)`), a file descriptor, or a file path. */
export type Destination = DestinationStream | NodeJS.WritableStream | number | string

export interface RedactOptions {
  /** Paths to redact, matched at any depth (see README). Added to the defaults unless `replaceDefaults`. */
  paths?: string[]
  /** Written in place of a redacted value. Default `[REDACTED]`. */
  censor?: string
  /** `true`: use only `paths`, dropping the default paths. Default `false`. */
  replaceDefaults?: boolean
}

export interface LoggerOptions {
  /** The `logger` field of every line. Default `app`. */
  name?: string
  /** Minimum level written. Default `info`. */
  level?: Level
  /** Where lines go. Default: standard output (file descriptor 1). */
  destination?: Destination
  /** Synchronous writes for a file descriptor or path destination. Default `false` (pino's default). */
  sync?: boolean
  /** Extra paths to redact (array), or the full redaction settings (object). */
  redact?: string[] | RedactOptions
  /** Fields written on every line (serialized once, at creation). */
  base?: Record<string, unknown>
  /** pino serializers by field name, merged over the defaults (`req`, `res`, `err`). */
  serializers?: Record<string, (value: any) => unknown>
}

export interface ResolvedLoggerOptions {
  name: string
  level: Level
  destination: Destination | undefined
  sync: boolean
  redactPaths: string[]
  censor: string
  base: Record<string, unknown>
  serializers: Record<string, (value: any) => unknown>
}

const LOGGER_OPTION_NAMES = ['name', 'level', 'destination', 'sync', 'redact', 'base', 'serializers']

export function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

export function assertOptionsObject (options: unknown, what: string): asserts options is Record<string, unknown> {
  if (!isPlainObject(options)) {
    throw new LoggingError(ERROR_CODES.INVALID_OPTIONS, `${what} options must be an object (got ${describe(options)})`)
  }
}

export function assertKnownOptions (options: Record<string, unknown>, known: readonly string[], what: string): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new LoggingError(ERROR_CODES.UNKNOWN_OPTION, `unknown ${what} option "${key}" (known options: ${known.join(', ')})`)
    }
  }
}

export function validateName (name: unknown, option: string): string {
  if (typeof name !== 'string' || name.trim().length === 0) {
    throw new LoggingError(ERROR_CODES.INVALID_NAME, `option "${option}" must be a non-empty string (got ${describe(name)})`)
  }
  return name
}

export function validateLevel (level: unknown, option: string, allowed: readonly string[] = LEVELS): Level {
  const normalized = typeof level === 'string' ? level.toLowerCase() : level
  if (typeof normalized !== 'string' || !allowed.includes(normalized)) {
    throw new LoggingError(ERROR_CODES.INVALID_LEVEL, `option "${option}" must be one of ${allowed.join(', ')} (got ${describe(level)})`)
  }
  return normalized as Level
}

function validateDestination (destination: unknown): Destination | undefined {
  if (destination === undefined) return undefined
  if (typeof destination === 'number' && Number.isInteger(destination) && destination >= 0) return destination
  if (typeof destination === 'string' && destination.length > 0) return destination
  if (typeof destination === 'object' && destination !== null && typeof (destination as { write?: unknown }).write === 'function') {
    return destination as Destination
  }
  throw new LoggingError(ERROR_CODES.INVALID_DESTINATION,
    `option "destination" must be a writable stream, a file descriptor (integer >= 0) or a file path (got ${describe(destination)})`)
}

function validateRedact (redact: unknown): { paths: string[], censor: string } {
  let extra: unknown = []
  let censor: unknown = DEFAULT_CENSOR
  let replaceDefaults: unknown = false
  if (Array.isArray(redact)) {
    extra = redact
  } else if (isPlainObject(redact)) {
    assertKnownOptions(redact, ['paths', 'censor', 'replaceDefaults'], 'redact')
    extra = redact.paths ?? []
    censor = redact.censor ?? DEFAULT_CENSOR
    replaceDefaults = redact.replaceDefaults ?? false
  } else if (redact !== undefined) {
    throw new LoggingError(ERROR_CODES.INVALID_REDACT, `option "redact" must be an array of paths or an object { paths, censor, replaceDefaults } (got ${describe(redact)})`)
  }
  if (!Array.isArray(extra)) {
    throw new LoggingError(ERROR_CODES.INVALID_REDACT, `option "redact.paths" must be an array of strings (got ${describe(extra)})`)
  }
  if (typeof censor !== 'string') {
    throw new LoggingError(ERROR_CODES.INVALID_REDACT, `option "redact.censor" must be a string (got ${describe(censor)})`)
  }
  if (typeof replaceDefaults !== 'boolean') {
    throw new LoggingError(ERROR_CODES.INVALID_REDACT, `option "redact.replaceDefaults" must be a boolean (got ${describe(replaceDefaults)})`)
  }
  for (const path of extra) parsePath(path)
  const paths = replaceDefaults ? [...extra as string[]] : [...DEFAULT_REDACT_PATHS, ...extra as string[]]
  return { paths, censor }
}

function validateBase (base: unknown): Record<string, unknown> {
  if (base === undefined) return {}
  if (!isPlainObject(base)) {
    throw new LoggingError(ERROR_CODES.INVALID_BASE, `option "base" must be a plain object (got ${describe(base)})`)
  }
  for (const key of Object.keys(base)) {
    if (RECORD_FIELDS.includes(key) || key === LOG_FIELDS.message) {
      throw new LoggingError(ERROR_CODES.INVALID_BASE, `option "base" must not set "${key}": the logger writes that field itself`)
    }
  }
  return base
}

function validateSerializers (serializers: unknown): Record<string, (value: any) => unknown> {
  if (serializers === undefined) return {}
  if (!isPlainObject(serializers)) {
    throw new LoggingError(ERROR_CODES.INVALID_SERIALIZERS, `option "serializers" must be an object of functions (got ${describe(serializers)})`)
  }
  for (const [key, fn] of Object.entries(serializers)) {
    if (typeof fn !== 'function') {
      throw new LoggingError(ERROR_CODES.INVALID_SERIALIZERS, `option "serializers.${key}" must be a function (got ${describe(fn)})`)
    }
  }
  return serializers as Record<string, (value: any) => unknown>
}

export function validateLoggerOptions (options: unknown, extraOptionNames: readonly string[] = [], what = 'createLogger'): ResolvedLoggerOptions {
  assertOptionsObject(options, what)
  assertKnownOptions(options, [...LOGGER_OPTION_NAMES, ...extraOptionNames], what)
  const sync = options.sync ?? false
  if (typeof sync !== 'boolean') {
    throw new LoggingError(ERROR_CODES.INVALID_DESTINATION, `option "sync" must be a boolean (got ${describe(sync)})`)
  }
  const { paths, censor } = validateRedact(options.redact)
  return {
    name: options.name === undefined ? DEFAULT_LOGGER_NAME : validateName(options.name, 'name'),
    level: options.level === undefined ? DEFAULT_LEVEL : validateLevel(options.level, 'level'),
    destination: validateDestination(options.destination),
    sync,
    redactPaths: paths,
    censor,
    base: validateBase(options.base),
    serializers: validateSerializers(options.serializers)
  }
}

export function validateLogger (logger: unknown): Logger {
  const methods = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'child']
  if (typeof logger !== 'object' || logger === null || methods.some((m) => typeof (logger as Record<string, unknown>)[m] !== 'function')) {
    throw new LoggingError(ERROR_CODES.INVALID_LOGGER, `option "logger" must be a pino logger, e.g. one from createLogger() (got ${describe(logger)})`)
  }
  return logger as Logger
}

export function validateRequestIdHeader (header: unknown): string | false {
  if (header === undefined) return DEFAULT_REQUEST_ID_HEADER
  if (header === false) return false
  if (typeof header !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) {
    throw new LoggingError(ERROR_CODES.INVALID_REQUEST_ID_HEADER, `option "requestIdHeader" must be a header name or false (got ${describe(header)})`)
  }
  return header.toLowerCase()
}
