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
  USAGE: 'O11Y_ERR_SLO_USAGE',
  RUNBOOK_BASE_URL: 'O11Y_ERR_SLO_RUNBOOK_BASE_URL'
} as const

export type SloErrorKey = keyof typeof ERROR_CODES
export type SloErrorCode = typeof ERROR_CODES[SloErrorKey]

/** What each code means, one line (docs/errors.md says how to solve it). */
export const ERROR_MESSAGES: Readonly<Record<SloErrorKey, string>> = {
  SPEC_READ: 'the spec file cannot be read',
  SPEC_YAML: 'the spec is not valid YAML',
  MISSING_FIELD: 'a required field of the spec is missing',
  UNKNOWN_FIELD: 'the spec has a field it does not know',
  INVALID_FIELD: 'a field of the spec has the wrong type or value',
  OBJECTIVE: 'objective is not a percentage above 1 and below 100',
  WINDOW: 'window is not whole days or weeks between 3d and 365d',
  BUCKETS: 'a custom bucket bound is not positive or not increasing',
  THRESHOLD: 'a latency threshold is not a bucket bound of the duration histogram',
  DUPLICATE_NAME: 'two SLOs share a name, or two specs share a service',
  USAGE: 'bad command line',
  RUNBOOK_BASE_URL: 'O11Y_RUNBOOK_BASE_URL is not an http(s) URL'
}

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
