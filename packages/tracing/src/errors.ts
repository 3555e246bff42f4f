import { PACKAGE_NAME } from './constants'

/**
 * The one catalogue of this package's codes, in the shape every @o11y package uses:
 * `{ KEY: 'O11Y_ERR_TRACING_KEY' }`, with what each means in ERROR_MESSAGES (docs/errors.md says
 * how to solve it). Codes are stable and never reused. Errors are thrown only while options are
 * validated; the others are warnings, given while the app runs and never thrown.
 */
export const ERROR_CODES = {
  INVALID_OPTION: 'O11Y_ERR_TRACING_INVALID_OPTION',
  UNKNOWN_OPTION: 'O11Y_ERR_TRACING_UNKNOWN_OPTION',
  INVALID_ENV: 'O11Y_ERR_TRACING_INVALID_ENV',
  ALREADY_STARTED: 'O11Y_ERR_TRACING_ALREADY_STARTED',
  PROVIDER_CONFLICT: 'O11Y_ERR_TRACING_PROVIDER_CONFLICT',
  QUEUE_FULL: 'O11Y_ERR_TRACING_QUEUE_FULL',
  EXPORT_FAILED: 'O11Y_ERR_TRACING_EXPORT_FAILED',
  SHUTDOWN_TIMEOUT: 'O11Y_ERR_TRACING_SHUTDOWN_TIMEOUT',
  PLUGIN_OPTION_IGNORED: 'O11Y_ERR_TRACING_PLUGIN_OPTION_IGNORED',
  IGNORE_ROUTES_FAILED: 'O11Y_ERR_TRACING_IGNORE_ROUTES_FAILED',
  HOOK_FAILED: 'O11Y_ERR_TRACING_HOOK_FAILED'
} as const
export type ErrorKey = keyof typeof ERROR_CODES
export type ErrorCode = typeof ERROR_CODES[ErrorKey]

export const ERROR_MESSAGES: Readonly<Record<ErrorKey, string>> = {
  INVALID_OPTION: 'an option of startTracing() or of the plugin has the wrong type or value',
  UNKNOWN_OPTION: 'an option name the package does not know',
  INVALID_ENV: 'warning: an OTEL_* variable has an unsupported value; its default is used',
  ALREADY_STARTED: 'warning: startTracing() was called while tracing runs; the running handle is returned',
  PROVIDER_CONFLICT: 'warning: another tracer provider was registered globally first; spans go to it',
  QUEUE_FULL: 'warning: the span export queue is full; new spans are dropped and counted',
  EXPORT_FAILED: 'warning: a span export failed or timed out; its spans are counted as failed',
  SHUTDOWN_TIMEOUT: 'warning: shutdown or a flush did not finish within shutdownTimeoutMillis',
  PLUGIN_OPTION_IGNORED: 'warning: plugin options that the register entry had already fixed were ignored',
  IGNORE_ROUTES_FAILED: 'warning: the ignoreRoutes function threw; the route is traced',
  HOOK_FAILED: 'warning: requestHook, responseHook or trustIncomingContext threw; counted, the request goes on'
}

/** The one error type this package throws; `code` is stable and listed in docs/errors.md. */
export class TracingError extends Error {
  readonly code: ErrorCode
  constructor (code: ErrorCode, message: string) {
    super(`${PACKAGE_NAME}: ${message}`)
    this.name = 'TracingError'
    this.code = code
  }
}

export function invalidOption (option: string, expected: string, value: unknown): TracingError {
  return new TracingError(ERROR_CODES.INVALID_OPTION,
    `option "${option}" must be ${expected}, got ${describe(value)}`)
}

export function unknownOption (option: string, known: readonly string[]): TracingError {
  return new TracingError(ERROR_CODES.UNKNOWN_OPTION, `unknown option "${option}" (known: ${known.join(', ')})`)
}

function describe (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (value === null || typeof value !== 'object') return String(value)
  return Array.isArray(value) ? 'an array' : 'an object'
}

/** Where warnings go: telemetry problems are reported, never raised. */
export interface WarningLogger {
  warn (message: string, code: ErrorCode): void
}

/** Default sink: a Node process warning (printed once per call on stderr, observable with `process.on('warning')`). */
export const processWarningLogger: WarningLogger = {
  warn (message, code) {
    process.emitWarning(`${PACKAGE_NAME}: ${message}`, { type: 'O11yTracingWarning', code })
  }
}

/** Wraps a user-supplied logger so a throwing logger cannot break the caller. */
export function safeLogger (logger: WarningLogger | undefined): WarningLogger {
  if (logger === undefined) return processWarningLogger
  return {
    warn (message, code) {
      try {
        logger.warn(message, code)
      } catch {
        // o11y-gate-ignore error-observed: the user's logger is the thing that failed; a broken logger must not break tracing
      }
    }
  }
}
