import { tracingChannel } from 'node:diagnostics_channel'
import pino from 'pino'
import type { DestinationStream, Level, Logger } from 'pino'
import { INVALID_SPANID, INVALID_TRACEID, trace } from '@opentelemetry/api'
import { LOG_FIELDS, RECORD_FIELDS, RENAMED_FIELD_PREFIX } from './constants'
import { dbErrorMessage, isDbError, withoutDbDetail } from './db-error'
import { LineDestination } from './destination'
import { ERROR_CODES, LoggingError } from './errors'
import { capLine } from './line-cap'
import { compileRedaction, isRequestLike, isResponseLike, summarizeRequest, summarizeResponse } from './redact'
import type { Redaction } from './redact'
import { OtlpSink } from './otlp'
import { isPlainObject, validateLoggerOptions, validateLogger, validateName } from './options'
import type { ResolvedLoggerOptions } from './options'
import type { Destination, LoggerOptions, LoggingStats } from './types'

/** The logger's own fd/path destination; children inherit it through their prototype. */
const kDestination = Symbol('o11y.logging.destination')

/** The logger's OTLP sink (when export is on); children inherit it through their prototype. */
const kOtlp = Symbol('o11y.logging.otlp')

/** The logger name lives on the instance (inherited by children), not in the bindings. */
const kName = Symbol('o11y.logging.name')

/** The logger's preformatted-line writer (see PreformattedLines); children inherit it through their prototype. */
const kPreformatted = Symbol('o11y.logging.preformatted')

const { chindingsSym, endSym, lsCacheSym, needsMetadataGsym, streamSym, timeSym } = pino.symbols

/** pino's own tracing channel of line formatting: with subscribers, lines go through pino so they see them. */
const pinoAsJson = tracingChannel('pino_asJson')

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
let stampSecond = -1
/** `,"timestamp":"YYYY-MM-DDTHH:MM:SS.` of stampSecond. */
let stampPrefix = ''
/** `mmmZ"` for every millisecond of a second. */
const MILLIS_SUFFIX = Array.from({ length: 1000 }, (_, ms) => `${String(ms).padStart(3, '0')}Z"`)

/**
 * Formatting a Date is a visible share of a log call (under load nearly every line has a new
 * millisecond): lines within one millisecond share the text, and within one second only the
 * milliseconds are new. The text is what toISOString() writes.
 */
function isoTimestamp (): string {
  const now = Date.now()
  if (now !== stampMillis) {
    stampMillis = now
    const ms = now % 1000
    if (ms < 0) {
      stamp = `,"${LOG_FIELDS.timestamp}":"${new Date(now).toISOString()}"`
      return stamp
    }
    const second = now - ms
    if (second !== stampSecond) {
      stampSecond = second
      const iso = new Date(second).toISOString()
      stampPrefix = `,"${LOG_FIELDS.timestamp}":"${iso.slice(0, iso.length - 4)}`
    }
    stamp = stampPrefix + (MILLIS_SUFFIX[ms] as string)
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

let lastName: unknown
let lastNameMember = ''

/** `,"logger":"<name>"`, remembered for the last name (most lines of a process share one). */
function loggerMember (name: unknown): string {
  if (name !== lastName) {
    lastName = name
    lastNameMember = `,"${LOG_FIELDS.logger}":${escapeLineSeparators(JSON.stringify(String(name)))}`
  }
  return lastNameMember
}

/** recordMixin's fields as the JSON text pino would write for them. */
function recordMixinText (name: unknown): string {
  const span = trace.getActiveSpan()
  if (span !== undefined) {
    const context = span.spanContext()
    if (context.traceId !== INVALID_TRACEID && context.spanId !== INVALID_SPANID) {
      return `${loggerMember(name)},"${LOG_FIELDS.traceId}":${JSON.stringify(context.traceId)},"${LOG_FIELDS.spanId}":${JSON.stringify(context.spanId)},"${LOG_FIELDS.traceFlags}":"${FLAGS_HEX[context.traceFlags & 0xff] as string}"`
    }
  }
  return loggerMember(name)
}

/**
 * Lines whose fields are known ahead (the plugin's request line): the JSON text of the fixed part
 * is made once, and a line is the concatenation of pino's cached parts (level, bindings), the
 * timestamp, the trace fields and that text, without a fields object, a mixin object, a
 * redaction walk or a line-separator scan of the whole line. Only for field names that no
 * redaction rule and no serializer can touch (checked when the writer is asked for).
 */
export interface PreformattedLines {
  /** `,"name":value,...` for `fields`, as a log call would write them (line separators escaped). */
  fields: (fields: Record<string, string | number>) => string
  /** One value as a log call would write it (line separators escaped). */
  value: (value: string | number) => string
  /**
   * Writes `{level, timestamp, bindings, logger, trace ids` + `body` + `}` for `logger` (a
   * descendant of the logger this writer belongs to). False: this logger cannot take this path
   * (another logger, a message prefix, a stream wanting metadata, a pino tracing subscriber); use
   * an ordinary log call.
   */
  write: (logger: unknown, level: Level, body: string) => boolean
}

/** The preformatted-line writer of a logger from this package, when `keys` can be written that way; else null. */
export function preformattedLines (logger: unknown, keys: readonly string[]): PreformattedLines | null {
  if (typeof logger !== 'object' || logger === null) return null
  const writer = (logger as Record<symbol, unknown>)[kPreformatted] as (PreformattedLines & { accepts: (keys: readonly string[]) => boolean }) | undefined
  return writer !== undefined && writer.accepts(keys) ? writer : null
}

function jsonValue (value: string | number): string {
  return typeof value === 'number' ? (Number.isFinite(value) ? String(value) : 'null') : JSON.stringify(value)
}

function createPreformatted (finish: (escapedLine: string) => string, redaction: Redaction | null, serialized: ReadonlySet<string>): PreformattedLines & { accepts: (keys: readonly string[]) => boolean } {
  const writer = {
    accepts (keys: readonly string[]): boolean {
      return keys.every((key) => !RESERVED.has(key) && !serialized.has(key) && key !== LOG_FIELDS.message && (redaction === null || !redaction.matchesField(key)))
    },
    fields (fields: Record<string, string | number>): string {
      let text = ''
      for (const key of Object.keys(fields)) text += `,${JSON.stringify(key)}:${jsonValue(fields[key] as string | number)}`
      return escapeLineSeparators(text)
    },
    value (value: string | number): string {
      return escapeLineSeparators(jsonValue(value))
    },
    write (target: unknown, level: Level, body: string): boolean {
      const logger = target as Logger & Record<symbol, any>
      if (logger[kPreformatted] !== writer || (logger as { msgPrefix?: string }).msgPrefix || pinoAsJson.hasSubscribers) return false
      const stream = logger[streamSym]
      if (stream[needsMetadataGsym] === true) return false
      if (!logger.isLevelEnabled(level)) return true
      const bindings = logger[chindingsSym] as string
      const line = (logger[lsCacheSym][logger.levels.values[level] as number] as string) + (logger[timeSym]() as string) +
        (LINE_SEPARATORS.test(bindings) ? escapeLineSeparators(bindings) : bindings) + recordMixinText(logger[kName]) + body + (logger[endSym] as string)
      stream.write(finish(line))
      return true
    }
  }
  return writer
}

/** `,"request_id":`, the start of the request id's member in a request logger's bindings. */
const REQUEST_ID_BINDING = `,${JSON.stringify(LOG_FIELDS.requestId)}:`

/** The last logger asked about by requestLogger, and whether it can bind the request id itself. */
let lastRequestParent: unknown
let lastRequestParentFits = false

/**
 * A request logger for `parent` with `request_id` bound, made without pino's `child()` (which, with
 * the options object Fastify always passes, rebuilds the formatters and walks the bindings for every
 * request): an object on `parent`'s prototype chain whose bindings text is the parent's plus the
 * request id's member, the text pino's `child({ request_id: id })` and this package's child hook
 * would make. Everything else (level, serializers, destination, `child()`, `bindings()`,
 * `setBindings()`, a level set on it) works as on any child. Null when that text cannot be made
 * here: not a logger from this package, a serializer or redaction rule for `request_id`, or an id
 * that is neither a string nor a finite number; then the caller makes an ordinary child.
 */
export function requestLogger (parent: unknown, id: unknown): Logger | null {
  let member: string
  if (typeof id === 'string') member = JSON.stringify(id)
  else if (typeof id === 'number' && Number.isFinite(id)) member = String(id)
  else return null
  if (parent !== lastRequestParent) {
    lastRequestParentFits = preformattedLines(parent, [LOG_FIELDS.requestId]) !== null
    lastRequestParent = parent
  }
  if (!lastRequestParentFits) return null
  const child = Object.create(parent as object) as Record<symbol, unknown>
  child[chindingsSym] = ((parent as Record<symbol, unknown>)[chindingsSym] as string) + REQUEST_ID_BINDING + member
  return child as unknown as Logger
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

/**
 * `log.error(err)` and `log.error({ err })` without a message make pino write `err.message` as the
 * line's message: for a database error that is the text this package withholds, so the generic
 * message is passed instead.
 */
function guardDbErrorMessage (this: Logger, args: unknown[], method: (...args: unknown[]) => void): void {
  if (args.length === 1 && typeof args[0] === 'object' && args[0] !== null) {
    const fields = args[0] as Record<string, unknown>
    const err = fields instanceof Error ? fields : fields[LOG_FIELDS.message] === undefined ? fields[LOG_FIELDS.error] : undefined
    if (err !== undefined && isDbError(err)) args.push(dbErrorMessage(err as Record<string, unknown>))
  }
  guardMessageField.call(this, args, method)
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

const stdErr = pino.stdSerializers.err

function serializeErrorWithoutDbDetail (err: unknown): unknown {
  return stdErr(withoutDbDetail(err) as Error)
}

function buildSerializers (user: Record<string, (value: any) => unknown>, redaction: Redaction | null, dbErrorDetail: boolean): Record<string, (value: any) => unknown> {
  const serializers: Record<string, (value: any) => unknown> = {
    req: serializeRequest,
    res: serializeResponse,
    [LOG_FIELDS.error]: dbErrorDetail ? stdErr : serializeErrorWithoutDbDetail
  }
  for (const [key, serializer] of Object.entries(user)) serializers[key] = guardSerializer(key, serializer)
  if (redaction === null) return serializers
  const wrapped: Record<string, (value: any) => unknown> = {}
  for (const [key, serializer] of Object.entries(serializers)) {
    wrapped[key] = function redactedSerializer (value: unknown) { return redaction.value(serializer(value), key) }
  }
  return wrapped
}

function buildDestination (destination: Destination | undefined, options: ResolvedLoggerOptions): DestinationStream | NodeJS.WritableStream {
  if (destination === undefined || typeof destination === 'number' || typeof destination === 'string') {
    try {
      return new LineDestination({ target: destination ?? 1, sync: options.sync, maxBufferLength: options.maxBufferLength, name: options.name })
    } catch (error) {
      throw new LoggingError(ERROR_CODES.INVALID_DESTINATION, `option "destination": cannot open ${JSON.stringify(destination)} for appending (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
    }
  }
  return destination
}

/**
 * What the logger's fd or path destination has done: lines written, dropped, waiting, and the
 * error that stopped it. `undefined` for a logger writing to a stream you passed (that stream does
 * its own buffering) or for something that is not a logger from this package.
 */
export function loggingStats (logger: Logger): LoggingStats | undefined {
  if (typeof logger !== 'object' || logger === null) return undefined
  const destination = (logger as unknown as Record<symbol, unknown>)[kDestination]
  const sink = otlpSink(logger)
  if (!(destination instanceof LineDestination) && sink === undefined) return undefined
  const lines = destination instanceof LineDestination ? destination.stats() : { written: 0, dropped: 0, buffered: 0, failed: null }
  return { ...lines, ...(sink?.stats() ?? { otlpExported: 0, otlpDropped: 0, otlpFailed: 0, otlpQueued: 0 }) }
}

/** The OTLP sink of a logger from this package (undefined when OTLP export is off). */
export function otlpSink (logger: unknown): OtlpSink | undefined {
  if (typeof logger !== 'object' || logger === null) return undefined
  const sink = (logger as Record<symbol, unknown>)[kOtlp]
  return sink instanceof OtlpSink ? sink : undefined
}

/**
 * Sends the OTLP log records queued now, waiting at most `timeoutMs` (default the logger's
 * `otlp.shutdownTimeoutMillis`). Resolves `true` when the queue was worked off (failed exports are counted,
 * not raised), `false` when the time ran out; never rejects. With `shutdown: true`, export stops for good afterwards (later
 * records are dropped and counted). A logger without OTLP export resolves `true` at once.
 */
export async function flushLogs (logger: Logger, options: { timeoutMs?: number, shutdown?: boolean } = {}): Promise<boolean> {
  const sink = otlpSink(logger)
  if (sink === undefined) return true
  return options.shutdown === true ? await sink.shutdown(options.timeoutMs) : await sink.flush(options.timeoutMs)
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

export function buildLogger (options: ResolvedLoggerOptions): Logger {
  const redaction = compileRedaction({ paths: options.redactPaths, censor: options.censor, reduceDbErrors: !options.dbErrorDetail })
  const serializers = buildSerializers(options.serializers, redaction, options.dbErrorDetail)
  const serialized = new Set(Object.keys(serializers))
  const base = redaction === null ? options.base : redaction.bindings(options.base, serialized)
  const maxLineBytes = options.maxLineBytes
  const destination = buildDestination(options.destination, options)
  const sink = options.otlp === null ? undefined : new OtlpSink(options.otlp)
  /** Caps a line whose line separators are escaped already (and exports it when OTLP export is on). */
  const finishEscaped = sink === undefined
    ? function cap (line: string) { return capLine(line, maxLineBytes, escapeLineSeparators) }
    : function capAndExport (line: string) {
      const written = capLine(line, maxLineBytes, escapeLineSeparators)
      // The exported record is the line as written: redacted, capped, db error text withheld.
      try {
        sink.emit(written)
      } catch {
        // o11y-gate-ignore error-observed: the SDK's emit must never break a log call; export failures are counted by the processor
      }
      return written
    }
  const finishLine = function escapeAndFinish (line: string): string { return finishEscaped(escapeLineSeparators(line)) }

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
    hooks: {
      streamWrite: finishLine,
      logMethod: options.dbErrorDetail ? guardMessageField : guardDbErrorMessage
    }
  }, destination)

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
  ;(logger as unknown as Record<symbol, unknown>)[kDestination] = destination
  ;(logger as unknown as Record<symbol, unknown>)[kPreformatted] = createPreformatted(finishEscaped, redaction, serialized)
  if (sink !== undefined) (logger as unknown as Record<symbol, unknown>)[kOtlp] = sink

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
