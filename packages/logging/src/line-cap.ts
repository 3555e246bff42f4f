import { LOG_FIELDS, RECORD_FIELDS, TRUNCATION_MARKER } from './constants'

/**
 * The per-line size cap. A line over `maxBytes` (rare: a logged body, a huge error) is parsed,
 * shortened and written again: the longest strings are cut first and end with
 * `...[truncated]`; if that is not enough, the largest of the caller's top-level fields are
 * left out and the message ends with the marker; as a last resort only the record's own fields and the start of the
 * message are kept. The line then carries `truncated: <bytes before>`, and it is still one JSON
 * object. Lines under the cap cost one length comparison.
 */

const OWN = new Set<string>([...RECORD_FIELDS, LOG_FIELDS.message])

/** Strings are not cut below this length (the marker would make them longer). */
const MIN_CUT_LENGTH = 64

/** Shortening steps tried before the last resort. */
const MAX_STEPS = 16

type Holder = Record<string | number, unknown>

interface Leaf { holder: Holder, key: string | number, length: number }

function longestString (value: unknown, depth: number, skipOwn: boolean, best: Leaf | null): Leaf | null {
  if (typeof value !== 'object' || value === null || depth > 64) return best
  const holder = value as Holder
  for (const key of Object.keys(holder)) {
    if (skipOwn && OWN.has(key) && key !== LOG_FIELDS.message) continue
    const item = holder[key]
    if (typeof item === 'string') {
      if (item.length >= MIN_CUT_LENGTH && (best === null || item.length > best.length)) best = { holder, key, length: item.length }
    } else if (typeof item === 'object' && item !== null) {
      best = longestString(item, depth + 1, false, best)
    }
  }
  return best
}

export function capLine (line: string, maxBytes: number, escape: (line: string) => string): string {
  // A UTF-8 character takes at most 3 bytes per UTF-16 unit: most lines are known to fit unmeasured.
  if (line.length * 3 <= maxBytes) return line
  const bytes = Buffer.byteLength(line)
  if (bytes <= maxBytes) return line
  return shorten(line, bytes, maxBytes, escape)
}

function shorten (line: string, bytes: number, maxBytes: number, escape: (line: string) => string): string {
  const record = JSON.parse(line) as Holder
  record[LOG_FIELDS.truncated] = bytes
  const write = (): string => escape(JSON.stringify(record)) + '\n'

  for (let step = 0; step < MAX_STEPS; step++) {
    const text = write()
    const size = Buffer.byteLength(text)
    if (size <= maxBytes) return text
    const excess = size - maxBytes
    const leaf = longestString(record, 0, true, null)
    if (leaf === null) break
    // Cutting k UTF-16 units removes at least k bytes from the line.
    const keep = Math.max(0, leaf.length - excess - TRUNCATION_MARKER.length)
    leaf.holder[leaf.key] = (leaf.holder[leaf.key] as string).slice(0, keep) + TRUNCATION_MARKER
  }

  // Many small values (a long array, thousands of keys): drop whole fields, the largest first,
  // sized once, and say so at the end of the message.
  let excess = Buffer.byteLength(write()) - maxBytes + TRUNCATION_MARKER.length
  const fields = Object.keys(record).filter((key) => !OWN.has(key))
    .map((key) => ({ key, size: Buffer.byteLength(JSON.stringify(key) + (JSON.stringify(record[key]) ?? '')) + 2 }))
    .sort((a, b) => b.size - a.size)
  for (const { key, size } of fields) {
    if (excess <= 0) break
    delete record[key]
    excess -= size
  }
  record[LOG_FIELDS.message] = String(record[LOG_FIELDS.message] ?? '') + TRUNCATION_MARKER
  const text = write()
  if (Buffer.byteLength(text) <= maxBytes) return text

  // Last resort: the record's own fields (each cut to a bounded length) and the marker.
  const minimal: Holder = {}
  for (const key of Object.keys(record)) {
    if (!OWN.has(key)) continue
    const value = record[key]
    minimal[key] = typeof value === 'string' && value.length > 64 ? value.slice(0, 64) + TRUNCATION_MARKER : value
  }
  minimal[LOG_FIELDS.truncated] = bytes
  if (typeof minimal[LOG_FIELDS.message] !== 'string' || !(minimal[LOG_FIELDS.message] as string).endsWith(TRUNCATION_MARKER)) {
    minimal[LOG_FIELDS.message] = String(minimal[LOG_FIELDS.message] ?? '') + TRUNCATION_MARKER
  }
  return escape(JSON.stringify(minimal)) + '\n'
}
