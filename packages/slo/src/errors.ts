import { PACKAGE_NAME } from './constants'

/** The catalogue of error codes. Codes are never reused; each is listed in docs/errors.md. */
export const ERROR_CODES = {
  SPEC_READ: 'O11Y_ERR_SLO_SPEC_READ',
  SPEC_YAML: 'O11Y_ERR_SLO_SPEC_YAML',
  MISSING_FIELD: 'O11Y_ERR_SLO_MISSING_FIELD',
  UNKNOWN_FIELD: 'O11Y_ERR_SLO_UNKNOWN_FIELD',
  INVALID_FIELD: 'O11Y_ERR_SLO_INVALID_FIELD',
  OBJECTIVE: 'O11Y_ERR_SLO_OBJECTIVE',
  WINDOW: 'O11Y_ERR_SLO_WINDOW',
  BUCKETS: 'O11Y_ERR_SLO_BUCKETS',
  THRESHOLD: 'O11Y_ERR_SLO_THRESHOLD',
  DUPLICATE_NAME: 'O11Y_ERR_SLO_DUPLICATE_NAME',
  USAGE: 'O11Y_ERR_SLO_USAGE'
} as const

export type SloErrorCode = typeof ERROR_CODES[keyof typeof ERROR_CODES]

/** A configuration or usage error. `path` names the offending field (`slos[1].threshold`) when there is one. */
export class SloError extends Error {
  readonly code: SloErrorCode
  readonly path: string | undefined
  readonly file: string | undefined

  constructor (code: SloErrorCode, message: string, details: { path?: string, file?: string } = {}) {
    const where = [details.file, details.path].filter(Boolean).join(': ')
    super(`${PACKAGE_NAME}: ${where ? where + ': ' : ''}${message}`)
    this.name = 'SloError'
    this.code = code
    this.path = details.path
    this.file = details.file
  }
}

export function isSloError (err: unknown): err is SloError {
  return err instanceof SloError
}
