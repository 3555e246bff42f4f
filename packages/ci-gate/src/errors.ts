// One catalogue of the errors o11y-gate raises: `{ KEY: 'O11Y_ERR_GATE_KEY' }`, and what each
// means in ERROR_MESSAGES (docs/errors.md says how to solve it). Each makes the CLI exit 2 with one line.

export const ERROR_CODES = {
  USAGE: 'O11Y_ERR_GATE_USAGE',
  CONFIG: 'O11Y_ERR_GATE_CONFIG',
  GIT: 'O11Y_ERR_GATE_GIT',
  BASELINE: 'O11Y_ERR_GATE_BASELINE',
  OUTPUT: 'O11Y_ERR_GATE_OUTPUT',
  READ: 'O11Y_ERR_GATE_READ',
  /** Not thrown: reported when something unexpected fails (a bug in o11y-gate). */
  INTERNAL: 'O11Y_ERR_GATE_INTERNAL'
} as const

export type GateErrorKey = keyof typeof ERROR_CODES
export type GateErrorCode = typeof ERROR_CODES[GateErrorKey]

export const ERROR_MESSAGES: Readonly<Record<GateErrorKey, string>> = {
  USAGE: 'bad command line',
  CONFIG: 'missing, unreadable or invalid configuration',
  GIT: 'git failed: not a repository, unknown ref, no main branch, no common ancestor with the base, or git missing',
  BASELINE: 'baseline file unreadable, invalid or unwritable',
  OUTPUT: 'a report file cannot be written',
  READ: 'a source file or directory cannot be read',
  INTERNAL: 'a bug in o11y-gate'
}

export class GateError extends Error {
  readonly code: GateErrorCode

  constructor (code: GateErrorCode, message: string, options?: { cause?: unknown }) {
    super(`@o11y/ci-gate: ${message}`, options)
    this.name = 'GateError'
    this.code = code
  }
}

export function usageError (message: string): GateError {
  return new GateError(ERROR_CODES.USAGE, message)
}

export function configError (message: string): GateError {
  return new GateError(ERROR_CODES.CONFIG, message)
}

export function gitError (message: string, cause?: unknown): GateError {
  return new GateError(ERROR_CODES.GIT, message, { cause })
}

export function baselineError (message: string, cause?: unknown): GateError {
  return new GateError(ERROR_CODES.BASELINE, message, { cause })
}

export function outputError (message: string, cause?: unknown): GateError {
  return new GateError(ERROR_CODES.OUTPUT, message, { cause })
}

export function readError (message: string, cause?: unknown): GateError {
  return new GateError(ERROR_CODES.READ, message, { cause })
}
