import { SpanStatusCode, type Attributes, type SpanStatus } from '@opentelemetry/api'
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace'
import { ATTR, LEGACY_ATTR } from './constants'

/** SQLSTATE classes (first two characters) that a reader of a span can act on. */
const SQLSTATE_CLASSES: Readonly<Record<string, string>> = {
  '08': 'connection exception',
  '22': 'data exception',
  '23': 'integrity constraint violation',
  '25': 'invalid transaction state',
  '28': 'invalid authorization specification',
  '40': 'transaction rollback',
  '42': 'syntax error or access rule violation',
  '53': 'insufficient resources',
  '54': 'program limit exceeded',
  '57': 'operator intervention',
  '58': 'system error',
  XX: 'internal error'
}

const SQLSTATE = /^[0-9A-Z]{5}$/

/** A database driver error (pg's DatabaseError and the like): a SQLSTATE `code`. */
export function isDatabaseError (error: unknown): error is Error & { code: string } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string' &&
    SQLSTATE.test((error as unknown as { code: string }).code) &&
    ('severity' in error || 'routine' in error || 'sqlState' in error || 'sqlMessage' in error)
}

/** `DatabaseError 22P02 (data exception)`: the code and class, never the text that may quote values. */
export function describeDatabaseError (name: string, code: string | undefined): string {
  if (code === undefined || !SQLSTATE.test(code)) return `${name} (message withheld; set dbErrorDetail to see it)`
  const cls = SQLSTATE_CLASSES[code.slice(0, 2)]
  return cls === undefined ? `${name} ${code}` : `${name} ${code} (${cls})`
}

/** An Error whose message (and the first line of its stack) says code and class only. */
export function withheldDatabaseError (error: Error & { code: string }): Error {
  const message = describeDatabaseError(error.name === 'error' ? 'DatabaseError' : error.name, error.code)
  const copy = new Error(message)
  copy.name = error.name === 'error' ? 'DatabaseError' : error.name
  const frames = error.stack?.indexOf('\n    at ')
  copy.stack = frames === undefined || frames === -1 ? `${copy.name}: ${message}` : `${copy.name}: ${message}${error.stack!.slice(frames)}`
  return copy
}

const URL_ATTRIBUTES = [ATTR.URL_PATH, ATTR.URL_FULL, LEGACY_ATTR.HTTP_TARGET, LEGACY_ATTR.HTTP_URL] as const

export interface SanitizeOptions {
  /** Keep query strings (`url.query`, `?…` in url.path/url.full/http.target). Default false. */
  captureQuery: boolean
  /** Keep database error text on DB spans. Default false. */
  dbErrorDetail: boolean
}

/**
 * Runs on every span just before it ends (ours, @fastify/otel's, the http, undici and pg
 * instrumentations', the application's): query strings and database error text that may quote
 * secrets or values are removed while the span is still writable, before any exporter sees it.
 */
export class SanitizingSpanProcessor implements SpanProcessor {
  constructor (private readonly options: SanitizeOptions) {}

  onStart (): void {}

  onEnding (span: Span): void {
    const attributes = span.attributes as Attributes
    if (!this.options.captureQuery) {
      for (const name of URL_ATTRIBUTES) {
        const value = attributes[name]
        if (typeof value === 'string') {
          const q = value.indexOf('?')
          if (q !== -1) attributes[name] = value.slice(0, q)
        }
      }
      if (attributes[ATTR.URL_QUERY] !== undefined) delete attributes[ATTR.URL_QUERY]
    }
    if (!this.options.dbErrorDetail && span.status.code === SpanStatusCode.ERROR && span.status.message !== undefined &&
        (attributes[ATTR.DB_SYSTEM_NAME] !== undefined || attributes[LEGACY_ATTR.DB_SYSTEM] !== undefined)) {
      const code = attributes[ATTR.ERROR_TYPE]
      ;(span as { status: SpanStatus }).status = { code: SpanStatusCode.ERROR, message: describeDatabaseError('DatabaseError', typeof code === 'string' ? code : undefined) }
    }
  }

  onEnd (_span: ReadableSpan): void {}
  async forceFlush (): Promise<void> {}
  async shutdown (): Promise<void> {}
}
