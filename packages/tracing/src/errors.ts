import { ERROR_CODES, PACKAGE_NAME, type ErrorCode } from './constants'

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

export { ERROR_CODES }
