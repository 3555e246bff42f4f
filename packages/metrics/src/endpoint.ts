import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE } from './constants'
import { negotiate, render, type BadValueReporter } from './exposition'
import type { Registry } from 'prom-client'
import type { MetricsAuth } from './types'

export interface ScrapeResponse {
  status: number
  headers: Record<string, string>
  body: string
}

function digest (value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}

/**
 * Checks the Authorization header against the configured credential. Both sides are hashed
 * first so that `timingSafeEqual` always compares equal-length buffers and the time taken does
 * not depend on where the strings differ (nor on the secret's length).
 */
export function createAuthCheck (auth: MetricsAuth | null): ((header: string | undefined) => boolean) | null {
  if (auth === null) return null
  const expected = auth.type === 'bearer'
    ? digest(auth.token)
    : digest(`${auth.username}:${auth.password}`)
  const scheme = auth.type === 'bearer' ? 'bearer' : 'basic'
  return function checkCredential (header) {
    if (typeof header !== 'string') return false
    const space = header.indexOf(' ')
    if (space < 0 || header.slice(0, space).toLowerCase() !== scheme) return false
    let given = header.slice(space + 1).trim()
    if (scheme === 'basic') given = Buffer.from(given, 'base64').toString('utf8')
    return timingSafeEqual(digest(given), expected)
  }
}

export function challenge (auth: MetricsAuth): string {
  return auth.type === 'bearer' ? 'Bearer realm="metrics"' : 'Basic realm="metrics", charset="UTF-8"'
}

export interface ScrapeDeps {
  registry: Registry
  auth: MetricsAuth | null
  timeoutMs: number
  onBadValue: BadValueReporter
  onScrapeError: (err: unknown) => void
}

/** Shared by the app route and the separate server: auth, negotiation, render with a deadline. */
export function createScraper (deps: ScrapeDeps): (headers: IncomingHttpHeaders) => Promise<ScrapeResponse> {
  const check = createAuthCheck(deps.auth)
  return async function scrape (headers): Promise<ScrapeResponse> {
    if (check !== null && !check(headers.authorization)) {
      return { status: 401, headers: { 'www-authenticate': challenge(deps.auth as MetricsAuth), 'content-type': 'text/plain; charset=utf-8' }, body: 'Unauthorized\n' }
    }
    const accept = Array.isArray(headers.accept) ? headers.accept.join(',') : headers.accept
    const format = negotiate(accept)
    let timer: NodeJS.Timeout | undefined
    try {
      const body = await Promise.race([
        render(deps.registry, format, deps.onBadValue),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`metrics collection took longer than ${deps.timeoutMs} ms`)), deps.timeoutMs)
        })
      ])
      return { status: 200, headers: { 'content-type': format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' }, body }
    } catch (err) {
      deps.onScrapeError(err)
      return { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'metrics collection failed, see the server log\n' }
    } finally {
      clearTimeout(timer)
    }
  }
}
