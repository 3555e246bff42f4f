import { ERROR_CODES, LoggingError } from './errors'

/** Checks shared by options.ts and otlp.ts (a module of its own, so neither imports the other's). */
export function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

export function assertKnownOptions (options: Record<string, unknown>, known: readonly string[], what: string): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new LoggingError(ERROR_CODES.UNKNOWN_OPTION, `unknown ${what} option "${key}" (known options: ${known.join(', ')})`)
    }
  }
}
