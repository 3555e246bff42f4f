import pino from 'pino'
import type { DestinationStream, Logger } from 'pino'
import { INVALID_SPANID, INVALID_TRACEID, trace } from '@opentelemetry/api'
import { LOG_FIELDS, RECORD_FIELDS, RENAMED_FIELD_PREFIX } from './constants'
import { compileRedaction, isRequestLike, isResponseLike, summarizeRequest, summarizeResponse } from './redact'
import type { Redaction } from './redact'
import { isPlainObject, validateLoggerOptions, validateLogger, validateName } from './options'
import type { Destination, LoggerOptions } from './options'

export type { Logger } from 'pino'

/** The logger name lives on the instance (inherited by children), not in the bindings. */
const kName = Symbol('o11y.logging.name')

const RESERVED = new Set(RECORD_FIELDS)

/** `trace_flags` values, computed once: 2 lowercase hex digits. */
const FLAGS_HEX = Array.from({ length: 256 }, (_, n) => n.toString(16).padStart(2, '0'))

/** U+0085, U+2028 and U+2029 are valid inside JSON strings but end a line for many readers. */
const LINE_SEPARATORS = /[\u0085\u2028\u2029]/
const LINE_SEPARATORS_ALL = /[\u0085\u2028\u2029]/g

let defaultLogger: Logger | undefined

function escapeLineSeparator (char: string): string {
  return '\\u' + char.charCodeAt(0).toString(16).padStart(4, '0')
}

function escapeLineSeparators (line: string): string {
  return LINE_SEPARATORS.test(line) ? line.replace(LINE_SEPARATORS_ALL, escapeLineSeparator) : line
}

let stampMillis = -1
let stamp = ''

/** Formatting a Date is a visible share of a log call; lines within one millisecond share it. */
function isoTimestamp (): string {
  const now = Date.now()
  if (now !== stampMillis) {
    stampMillis = now
    stamp = `,"${LOG_FIELDS.timestamp}":"${new Date(now).toISOString()}"`
  }
  return stamp
}

function upperCaseLevel (label: string): Record<string, string> {
  return { [LOG_FIELDS.level]: label.toUpperCase() }
}

/**
 * Runs for every written line: the logger name and, when a span with a valid context is active,
 * its ids. Reads the context through @opentelemetry/api only, so it needs no instrumentation.
 */
function recordMixin (_fields: object, _level: number, logger: Logger): Record<string, unknown> {
  const name = (logger as unknown as Record<symbol, string>)[kName]
  const span = trace.getActiveSpan()
  if (span !== undefined) {
    const context = span.spanContext()
    if (context.traceId !== INVALID_TRACEID && context.spanId !== INVALID_SPANID) {
      return {
        [LOG_FIELDS.logger]: name,
        [LOG_FIELDS.traceId]: context.traceId,
        [LOG_FIELDS.spanId]: context.spanId,
        [LOG_FIELDS.traceFlags]: FLAGS_HEX[context.traceFlags & 0xff]
      }
    }
  }
  return { [LOG_FIELDS.logger]: name }
}

/** Caller fields after the logger's own; a caller field named like one of those is renamed. */
function mergeFields (fields: object, record: object): object {
  const source = fields as Record<string, unknown>
  const target = record as Record<string, unknown>
  for (const key in source) {
    if (!Object.prototype.hasOwnProperty.call(source, key)) continue
    target[RESERVED.has(key) ? RENAMED_FIELD_PREFIX + key : key] = source[key]
  }
  return target
}

/**
 * `log.info({ message }, 'text')` would write two `message` keys (pino writes the fields, then the
 * message). Only the log call knows both, so this hook renames the field to `_message` then.
 */
function guardMessageField (this: Logger, args: unknown[], method: (...args: unknown[]) => void): void {
  const fields = args[0]
  if (args.length > 1 && typeof fields === 'object' && fields !== null && !(fields instanceof Error) &&
      Object.prototype.hasOwnProperty.call(fields, LOG_FIELDS.message)) {
    const { [LOG_FIELDS.message]: message, ...rest } = fields as Record<string, unknown>
    args[0] = { ...rest, [RENAMED_FIELD_PREFIX + LOG_FIELDS.message]: message }
  }
  method.apply(this, args)
}

function renameReserved (bindings: Record<string, unknown>): Record<string, unknown> {
  let renamed: Record<string, unknown> | undefined
  for (const key of Object.keys(bindings)) {
    if (RESERVED.has(key)) {
      renamed ??= { ...bindings }
      delete renamed[key]
      renamed[RENAMED_FIELD_PREFIX + key] = bindings[key]
    }
  }
  return renamed ?? bindings
}

function serializeRequest (req: unknown): unknown {
  return typeof req === 'object' && req !== null && !isPlainObject(req) && isRequestLike(req) ? summarizeRequest(req) : req
}

function serializeResponse (res: unknown): unknown {
  return typeof res === 'object' && res !== null && !isPlainObject(res) && isResponseLike(res) ? summarizeResponse(res) : res
}

/** A throwing user serializer must not turn a log call (maybe inside a request) into an error. */
function guardSerializer (key: string, serializer: (value: any) => unknown): (value: any) => unknown {
  return function guardedSerializer (value: unknown) {
    try {
      return serializer(value)
    } catch (error) {
      // o11y-gate-ignore error-observed: the failure is written into the log record itself; throwing would break the caller's log call
      return `[serializer "${key}" failed: ${error instanceof Error ? error.message : String(error)}]`
    }
  }
}

function buildSerializers (user: Record<string, (value: any) => unknown>, redaction: Redaction | null): Record<string, (value: any) => unknown> {
  const serializers: Record<string, (value: any) => unknown> = {
    req: serializeRequest,
    res: serializeResponse,
    [LOG_FIELDS.error]: pino.stdSerializers.err
  }
  for (const [key, serializer] of Object.entries(user)) serializers[key] = guardSerializer(key, serializer)
  if (redaction === null) return serializers
  const wrapped: Record<string, (value: any) => unknown> = {}
  for (const [key, serializer] of Object.entries(serializers)) {
    wrapped[key] = function redactedSerializer (value: unknown) { return redaction.value(serializer(value), key) }
  }
  return wrapped
}

function buildDestination (destination: Destination | undefined, sync: boolean): DestinationStream | NodeJS.WritableStream {
  if (destination === undefined || typeof destination === 'number' || typeof destination === 'string') {
    return pino.destination({ dest: destination ?? 1, sync })
  }
  return destination
}

/**
 * Creates a pino logger that writes one JSON object per line: `timestamp`, `level`, `logger`,
 * `message`, the active span's `trace_id` / `span_id` / `trace_flags`, and the caller's fields,
 * with secrets redacted. The new logger becomes the parent of `getLogger(name)` loggers.
 * Throws a `LoggingError` (code `O11Y_ERR_LOGGING_*`) on a bad option.
 */
export function createLogger (options: LoggerOptions = {}): Logger {
  return buildLogger(validateLoggerOptions(options))
}

export function buildLogger (options: ReturnType<typeof validateLoggerOptions>): Logger {
  const redaction = compileRedaction(options.redactPaths, options.censor)
  const serializers = buildSerializers(options.serializers, redaction)
  const serialized = new Set(Object.keys(serializers))
  const base = redaction === null ? options.base : redaction.bindings(options.base, serialized)

  const logger = pino({
    level: options.level,
    messageKey: LOG_FIELDS.message,
    errorKey: LOG_FIELDS.error,
    base,
    timestamp: isoTimestamp,
    formatters: {
      level: upperCaseLevel,
      ...(redaction === null ? {} : { log: (record: Record<string, unknown>) => redaction.record(record, RESERVED, serialized) })
    },
    mixin: recordMixin,
    mixinMergeStrategy: mergeFields,
    serializers,
    hooks: { streamWrite: escapeLineSeparators, logMethod: guardMessageField }
  }, buildDestination(options.destination, options.sync))

  const pinoChild = logger.child
  // Children are prototype-linked to their parent, so this one override covers every descendant:
  // bindings get the same renaming and redaction as logged fields, and a `logger` binding sets
  // the child's name instead of writing a second `logger` key.
  function child (this: Logger, bindings: Record<string, unknown>, childOptions?: object): Logger {
    let name: unknown
    let safe = bindings
    if (isPlainObject(bindings)) {
      if (Object.prototype.hasOwnProperty.call(bindings, LOG_FIELDS.logger)) {
        const { [LOG_FIELDS.logger]: requested, ...rest } = bindings
        name = requested
        safe = rest
      }
      safe = renameReserved(safe)
      if (redaction !== null) safe = redaction.bindings(safe, serialized)
    }
    const created = pinoChild.call(this, safe, childOptions) as unknown as Logger
    if (name !== undefined) (created as unknown as Record<symbol, unknown>)[kName] = String(name)
    return created
  }
  Object.defineProperty(logger, 'child', { value: child, writable: true, configurable: true, enumerable: false })
  ;(logger as unknown as Record<symbol, unknown>)[kName] = options.name

  defaultLogger = logger
  return logger
}

function namedChild (parent: Logger, name: string): Logger {
  return parent.child({ [LOG_FIELDS.logger]: name })
}

function currentDefault (): Logger {
  return defaultLogger ?? createLogger()
}

/**
 * Returns a logger named `name`.
 *
 * With `parent`, it is a child of that logger. Without, it follows the most recently created
 * logger (createLogger / fastifyLoggerOptions; a stdout logger with default options if there is
 * none yet), so `const log = getLogger('payments')` at the top of a module writes to the logger
 * the application creates later.
 */
export function getLogger (name: string, parent?: Logger): Logger {
  validateName(name, 'name')
  if (parent !== undefined) return namedChild(validateLogger(parent), name)

  let root: Logger | undefined
  let current: Logger | undefined
  const resolve = (): Logger => {
    const latest = currentDefault()
    if (latest !== root || current === undefined) {
      root = latest
      current = namedChild(latest, name)
    }
    return current
  }
  return new Proxy(Object.create(null) as Logger, {
    get (_target, property) {
      const target = resolve()
      const value: unknown = Reflect.get(target, property)
      return typeof value === 'function' ? value.bind(target) : value
    },
    set (_target, property, value) {
      return Reflect.set(resolve(), property, value)
    },
    has (_target, property) {
      return Reflect.has(resolve(), property)
    },
    getPrototypeOf () {
      return Object.getPrototypeOf(resolve())
    }
  })
}
