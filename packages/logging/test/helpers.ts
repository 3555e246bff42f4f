import { context, trace } from '@opentelemetry/api'
import type { Tracer } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { TracerProvider } from '@opentelemetry/sdk-trace'

/** A destination that keeps what pino writes, exactly as written. */
export interface Capture {
  write: (chunk: string) => void
  /** Everything written so far. */
  text: () => string
  /** Every line parsed with JSON.parse (throws on a line that is not JSON). */
  lines: () => Array<Record<string, any>>
}

export function capture (): Capture {
  const chunks: string[] = []
  return {
    write (chunk: string) { chunks.push(String(chunk)) },
    text: () => chunks.join(''),
    lines () {
      const text = chunks.join('')
      if (text === '') return []
      if (!text.endsWith('\n')) throw new Error('output does not end with a newline')
      return text.slice(0, -1).split('\n').map((line) => JSON.parse(line) as Record<string, any>)
    }
  }
}

interface TeardownTest { teardown: (fn: () => void | Promise<void>) => void }

/**
 * Registers a real tracer provider and the AsyncLocalStorage context manager globally for the
 * test, as an instrumented application has them; both are removed at teardown.
 */
export function useTracing (t: TeardownTest): Tracer {
  const contextManager = new AsyncLocalStorageContextManager().enable()
  context.setGlobalContextManager(contextManager)
  const provider = new TracerProvider()
  trace.setGlobalTracerProvider(provider)
  t.teardown(async () => {
    trace.disable()
    context.disable()
    await provider.shutdown()
  })
  return trace.getTracer('o11y-logging-test')
}

/** Code points that end a line for some reader (Unicode line breaks, Python's str.splitlines()). */
const LINE_BREAKS = new Set([0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029])

/** Splits like the strictest common reader: every line break above ends a line (CR LF is one). */
export function readerLines (text: string): string[] {
  const lines: string[] = []
  let start = 0
  for (let i = 0; i < text.length; i++) {
    if (!LINE_BREAKS.has(text.charCodeAt(i))) continue
    lines.push(text.slice(start, i))
    if (text.charCodeAt(i) === 0x0d && text.charCodeAt(i + 1) === 0x0a) i++
    start = i + 1
  }
  lines.push(text.slice(start))
  return lines
}

/** True when the text holds a raw control character other than the line feed that ends a record. */
export function hasRawControl (text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if ((code < 0x20 && code !== 0x0a) || code === 0x7f || code === 0x85 || code === 0x2028 || code === 0x2029) return true
  }
  return false
}

/**
 * True when a written line is exactly what JSON.stringify writes for its parsed value (apart from
 * the escaped line separators): a duplicated key would be dropped by the round trip, so this
 * proves every key of the line appears once, at every depth.
 */
export function isCanonicalJson (raw: string): boolean {
  const rewritten = JSON.stringify(JSON.parse(raw)).replace(/[\u0085\u2028\u2029]/g,
    (char) => '\\u' + char.charCodeAt(0).toString(16).padStart(4, '0'))
  return rewritten === raw
}

/** Every secret name the README promises to redact by default (header and field spellings). */
export const SECRET_NAMES = [
  'authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-auth-token',
  'token', 'access_token', 'refresh_token', 'id_token', 'csrfToken', 'secret', 'client_secret', 'clientSecret',
  'password', 'passwd', 'new_password', 'api_key', 'apiKey', 'api-key', 'apikey', 'private_key', 'privateKey',
  'session', 'sessionId', 'session_id', 'x-session-token', 'credentials', 'cardNumber', 'card_number', 'cvv'
]
