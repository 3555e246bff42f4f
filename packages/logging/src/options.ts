import type { Logger } from 'pino'
import {
  DEFAULT_CENSOR,
  DEFAULT_CLIENT_ERROR_LEVEL,
  DEFAULT_LEVEL,
  DEFAULT_LOGGER_NAME,
  DEFAULT_MAX_BUFFER_LENGTH,
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_REDACT_PATHS,
  DEFAULT_REQUEST_ID_HEADER,
  LEVELS,
  LOG_FIELDS,
  MIN_MAX_BUFFER_LENGTH,
  MIN_MAX_LINE_BYTES,
  RECORD_FIELDS
} from './constants'
import { ERROR_CODES, LoggingError, describe } from './errors'
import { parsePath } from './redact'
import { assertKnownOptions, isPlainObject } from './validate'

export { assertKnownOptions, isPlainObject }
import { resolveOtlpOptions } from './otlp'
import type { ResolvedOtlpOptions } from './otlp'
import type { Destination, Level, LineLevel } from './types'

/*
 * Defaults (constants.ts): name `app`, level `info`, destination stdout (fd 1), asynchronous
 * batched writes, maxBufferLength 2 Mi characters (drop-newest beyond), maxLineBytes 32 KiB,
 * database error text withheld, the DEFAULT_REDACT_PATHS patterns, censor `[REDACTED]`.
 */

export interface ResolvedLoggerOptions {
  name: string
  level: Level
  destination: Destination | undefined
  sync: boolean
  maxBufferLength: number
  maxLineBytes: number
  dbErrorDetail: boolean
  redactPaths: string[]
  censor: string
  base: Record<string, unknown>
  serializers: Record<string, (value: any) => unknown>
  /** null: no OTLP export. */
  otlp: ResolvedOtlpOptions | null
}

const LOGGER_OPTION_NAMES = ['name', 'level', 'destination', 'sync', 'maxBufferLength', 'maxLineBytes', 'dbErrorDetail', 'redact', 'base', 'serializers', 'otlp']

export function assertOptionsObject (options: unknown, what: string): asserts options is Record<string, unknown> {
  if (!isPlainObject(options)) {
    throw new LoggingError(ERROR_CODES.INVALID_OPTIONS, `${what} options must be an object (got ${describe(options)})`)
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

function validateLimit (value: unknown, option: string, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new LoggingError(ERROR_CODES.INVALID_OPTION_VALUE, `option "${option}" must be an integer >= ${min} (got ${describe(value)})`)
  }
  return value
}

function validateRedact (redact: unknown): { paths: string[], censor: string } {
  let extra: unknown = []
  let censor: unknown = DEFAULT_CENSOR
  let replaceDefaults: unknown = false
  let remove: unknown = []
  if (Array.isArray(redact)) {
    extra = redact
  } else if (isPlainObject(redact)) {
    assertKnownOptions(redact, ['paths', 'remove', 'censor', 'replaceDefaults'], 'redact')
    extra = redact.paths ?? []
    remove = redact.remove ?? []
    censor = redact.censor ?? DEFAULT_CENSOR
    replaceDefaults = redact.replaceDefaults ?? false
  } else if (redact !== undefined) {
    throw new LoggingError(ERROR_CODES.INVALID_REDACT, `option "redact" must be an array of paths or an object { paths, remove, censor, replaceDefaults } (got ${describe(redact)})`)
  }
  if (!Array.isArray(remove) || remove.some((entry) => !DEFAULT_REDACT_PATHS.includes(entry as string))) {
    throw new LoggingError(ERROR_CODES.INVALID_REDACT, `option "redact.remove" must be an array of default patterns (${DEFAULT_REDACT_PATHS.join(', ')}) (got ${describe(remove)})`)
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
  const defaults = replaceDefaults ? [] : DEFAULT_REDACT_PATHS.filter((path) => !(remove as string[]).includes(path))
  const paths = [...defaults, ...extra as string[]]
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
  const dbErrorDetail = options.dbErrorDetail ?? false
  if (typeof dbErrorDetail !== 'boolean') {
    throw new LoggingError(ERROR_CODES.INVALID_OPTION_VALUE, `option "dbErrorDetail" must be a boolean (got ${describe(dbErrorDetail)})`)
  }
  return {
    name: options.name === undefined ? DEFAULT_LOGGER_NAME : validateName(options.name, 'name'),
    level: options.level === undefined ? DEFAULT_LEVEL : validateLevel(options.level, 'level'),
    destination: validateDestination(options.destination),
    sync,
    maxBufferLength: validateLimit(options.maxBufferLength, 'maxBufferLength', DEFAULT_MAX_BUFFER_LENGTH, MIN_MAX_BUFFER_LENGTH),
    maxLineBytes: validateLimit(options.maxLineBytes, 'maxLineBytes', DEFAULT_MAX_LINE_BYTES, MIN_MAX_LINE_BYTES),
    dbErrorDetail,
    redactPaths: paths,
    censor,
    base: validateBase(options.base),
    serializers: validateSerializers(options.serializers),
    otlp: resolveOtlpOptions(options.otlp)
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

const PLUGIN_OPTION_NAMES = ['clientErrorLevel', 'ignoreRoutes']

export interface ResolvedPluginOptions {
  clientErrorLevel: LineLevel
  /** Route templates to leave out, or the user's predicate (guarded by the plugin). */
  ignoreRoutes: ReadonlySet<string> | ((url: string, method: string) => boolean)
}

/** `app.register(o11yLogging, options)`: defaults `clientErrorLevel: 'info'`, `ignoreRoutes: []`. */
export function resolvePluginOptions (options: unknown): ResolvedPluginOptions {
  assertOptionsObject(options, 'o11yLogging')
  assertKnownOptions(options, PLUGIN_OPTION_NAMES, 'o11yLogging')
  const clientErrorLevel = options.clientErrorLevel === undefined
    ? DEFAULT_CLIENT_ERROR_LEVEL
    : validateLevel(options.clientErrorLevel, 'clientErrorLevel', LEVELS.filter((level) => level !== 'silent')) as LineLevel
  const ignore = options.ignoreRoutes ?? []
  let ignoreRoutes: ResolvedPluginOptions['ignoreRoutes']
  if (typeof ignore === 'function') {
    ignoreRoutes = ignore as (url: string, method: string) => boolean
  } else if (Array.isArray(ignore) && ignore.every((route) => typeof route === 'string')) {
    ignoreRoutes = new Set(ignore as string[])
  } else {
    throw new LoggingError(ERROR_CODES.INVALID_OPTION_VALUE, `option "ignoreRoutes" must be an array of route templates or a function (url, method) => boolean (got ${describe(ignore)})`)
  }
  return { clientErrorLevel, ignoreRoutes }
}
