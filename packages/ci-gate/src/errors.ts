// One catalogue of the errors o11y-gate raises. Each one makes the CLI exit 2 with one line.

export const ERROR_CODES = {
  usage: 'O11Y_ERR_GATE_USAGE',
  config: 'O11Y_ERR_GATE_CONFIG',
  git: 'O11Y_ERR_GATE_GIT',
  baseline: 'O11Y_ERR_GATE_BASELINE',
  output: 'O11Y_ERR_GATE_OUTPUT',
  read: 'O11Y_ERR_GATE_READ',
  /** Not thrown: reported when something unexpected fails (a bug in o11y-gate). */
  internal: 'O11Y_ERR_GATE_INTERNAL'
} as const

export type GateErrorCode = typeof ERROR_CODES[keyof typeof ERROR_CODES]

export class GateError extends Error {
  readonly code: GateErrorCode

  constructor (code: GateErrorCode, message: string, options?: { cause?: unknown }) {
    super(`@o11y/ci-gate: ${message}`, options)
    this.name = 'GateError'
    this.code = code
  }
}

export function usageError (message: string): GateError {
  return new GateError(ERROR_CODES.usage, message)
}

export function configError (message: string): GateError {
  return new GateError(ERROR_CODES.config, message)
}

export function gitError (message: string, cause?: unknown): GateError {
  return new GateError(ERROR_CODES.git, message, { cause })
}

export function baselineError (message: string, cause?: unknown): GateError {
  return new GateError(ERROR_CODES.baseline, message, { cause })
}

export function outputError (message: string, cause?: unknown): GateError {
  return new GateError(ERROR_CODES.output, message, { cause })
}

export function readError (message: string, cause?: unknown): GateError {
  return new GateError(ERROR_CODES.read, message, { cause })
}
