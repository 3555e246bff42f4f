import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { promisify } from 'node:util'
import { gunzipSync, gzip, gzipSync } from 'node:zlib'
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, type ScrapeResult } from './constants'
import { negotiate, renderBuffer, type BadValueReporter, type ExpositionFormat, type RenderBuffer } from './exposition'
import type { Registry } from 'prom-client'
import type { MetricsAuth } from './types'

export interface ScrapeResponse {
  status: number
  headers: Record<string, string>
  body: string | Buffer
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
  /** A render younger than this is served again (0: only overlapping scrapes share a render). */
  minIntervalMs: number
  onBadValue: BadValueReporter
  /** A render failed (once per render) or a scrape timed out (once per scrape). */
  onScrapeError: (err: unknown) => void
  /** Every scrape's outcome, for o11y_metrics_scrapes_total. */
  onResult: (result: ScrapeResult) => void
  /** Replaces the local render: in a cluster worker, the primary's aggregate (see cluster.ts). */
  render?: (format: ExpositionFormat) => Promise<string>
}

/**
 * One finished render, sent as is or compressed, each form made at most once. A render whose
 * first scraper asks for gzip (Prometheus always does) is compressed straight from the render's
 * buffer and kept only compressed; a scraper that later asks for it uncompressed gets it inflated.
 */
interface Rendered {
  /** Null until a scraper asks for the uncompressed form (then `gz` is set). */
  body: Buffer | null
  gz: Promise<Buffer> | null
  at: number
}

/** Per format: the render in progress, and the last finished one. */
interface FormatState {
  inflight: Promise<Rendered> | null
  last: Rendered | null
}

const gzipAsync = promisify(gzip)
/** Level 1: a third of the default's CPU for a few percent more bytes; exposition text compresses ~20x either way. */
const GZIP_OPTIONS = { level: 1 }
/**
 * Renders up to this size are compressed on the main thread, larger ones in libuv's thread pool.
 * Handing a small body to the pool costs more than compressing it: measured on a bench scrape of
 * ~750 series (74 KB), server CPU per gzip scrape went from 1.30 to 1.00 ms inline. At level 1,
 * 256 KiB takes about 0.3-0.6 ms, the longest the event loop is held by a compression.
 */
export const GZIP_INLINE_MAX_BYTES = 256 * 1024

/** Compresses a render: inline when small (cheaper), in the thread pool when large (never blocks long). */
export async function gzipBody (body: Buffer): Promise<Buffer> {
  return body.length <= GZIP_INLINE_MAX_BYTES ? gzipSync(body, GZIP_OPTIONS) : await gzipAsync(body, GZIP_OPTIONS)
}

/**
 * Turns a finished render into what is kept: compressed at once, from the render's own buffer,
 * when the scraper that started it asks for gzip and it is small enough to compress inline;
 * otherwise a copy of its bytes. The render's buffer is given back either way.
 */
export function keepRender (out: RenderBuffer, gz: boolean): { body: Buffer | null, gz: Promise<Buffer> | null } {
  try {
    if (gz && out.length <= GZIP_INLINE_MAX_BYTES) return { body: null, gz: Promise.resolve(gzipSync(out.view(), GZIP_OPTIONS)) }
    return { body: out.finish(), gz: null }
  } finally {
    out.release()
  }
}

function compressed (r: Rendered): Promise<Buffer> {
  return (r.gz ??= gzipBody(r.body as Buffer))
}

async function uncompressed (r: Rendered): Promise<Buffer> {
  return (r.body ??= gunzipSync(await (r.gz as Promise<Buffer>)))
}

/** Whether `Accept-Encoding` admits gzip (Prometheus always sends `gzip`). */
export function acceptsGzip (header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : header
  if (value === undefined) return false
  for (const part of value.split(',')) {
    const [coding = '', ...params] = part.split(';')
    const c = coding.trim().toLowerCase()
    if (c !== 'gzip' && c !== 'x-gzip' && c !== '*') continue
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    if (q === undefined || Number.parseFloat(q.slice(2)) > 0) return true
  }
  return false
}

const UNAUTHORIZED_BODY = 'Unauthorized\n'
const FAILED_BODY = 'metrics collection failed, see the server log\n'

/**
 * Shared by the app route and the separate server: auth, negotiation, then a render shared by
 * every scrape that arrives while it runs (single flight, one per format) and, with
 * `minIntervalMs`, by every scrape within that long after it finished. A render is encoded once;
 * a hundred scrapers cost one render and a hundred socket writes.
 */
export function createScraper (deps: ScrapeDeps): (headers: IncomingHttpHeaders) => Promise<ScrapeResponse> {
  const check = createAuthCheck(deps.auth)
  const custom = deps.render
  const renderFormat = custom !== undefined
    ? async (format: ExpositionFormat) => ({ body: Buffer.from(await custom(format), 'utf8'), gz: null })
    : async (format: ExpositionFormat, gz: boolean) => keepRender(await renderBuffer(deps.registry, format, deps.onBadValue), gz)
  const states: Record<ExpositionFormat, FormatState> = {
    prometheus: { inflight: null, last: null },
    openmetrics: { inflight: null, last: null }
  }

  function startRender (format: ExpositionFormat, state: FormatState, gz: boolean): Promise<Rendered> {
    const p = renderFormat(format, gz).then((kept) => {
      const rendered: Rendered = { ...kept, at: Date.now() }
      state.last = rendered
      return rendered
    })
    state.inflight = p
    p.then(() => { state.inflight = null }, (err: unknown) => {
      state.inflight = null
      deps.onScrapeError(err)
    })
    return p
  }

  return async function scrape (headers): Promise<ScrapeResponse> {
    if (check !== null && !check(headers.authorization)) {
      deps.onResult('unauthorized')
      return { status: 401, headers: { 'www-authenticate': challenge(deps.auth as MetricsAuth), 'content-type': 'text/plain; charset=utf-8' }, body: UNAUTHORIZED_BODY }
    }
    const accept = Array.isArray(headers.accept) ? headers.accept.join(',') : headers.accept
    const format = negotiate(accept)
    const gz = acceptsGzip(headers['accept-encoding'])
    const okHeaders: Record<string, string> = { 'content-type': format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store', vary: 'accept-encoding' }
    if (gz) okHeaders['content-encoding'] = 'gzip'
    const state = states[format]
    const last = state.last
    let result: ScrapeResult
    let pending: Promise<Rendered>
    if (last !== null && deps.minIntervalMs > 0 && Date.now() - last.at < deps.minIntervalMs) {
      result = 'cached'
      pending = Promise.resolve(last)
    } else {
      result = state.inflight !== null ? 'shared' : 'rendered'
      pending = state.inflight ?? startRender(format, state, gz)
    }
    let timer: NodeJS.Timeout | undefined
    try {
      const body = await Promise.race([
        // Compressed once per render, then shared like the render.
        pending.then(gz ? compressed : uncompressed),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new ScrapeTimeout(deps.timeoutMs)), deps.timeoutMs)
        })
      ])
      deps.onResult(result)
      return { status: 200, headers: okHeaders, body }
    } catch (err) {
      // A failed render is reported once, where it is started; a timeout once per scrape.
      if (err instanceof ScrapeTimeout) deps.onScrapeError(err)
      deps.onResult('failed')
      return { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: FAILED_BODY }
    } finally {
      clearTimeout(timer)
    }
  }
}

class ScrapeTimeout extends Error {
  constructor (ms: number) {
    super(`metrics collection took longer than ${ms} ms`)
    this.name = 'ScrapeTimeout'
  }
}
