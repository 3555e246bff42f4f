import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as semconv from '../src/index'
import { DEFAULT_LATENCY_BUCKETS, ERROR_CODE_PREFIXES, KNOWN_HTTP_METHODS, METRIC_NAMES, OTEL_METRIC_NAMES, RUNTIME_METRIC_NAMES } from '../src/index'

/** Every string an export holds (objects and arrays walked). */
function strings (value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.flatMap(strings)
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(strings)
  return []
}

t.test('every export is frozen, so no consumer can change a name for the others', async (t) => {
  for (const [name, value] of Object.entries(semconv)) {
    if (value !== null && typeof value === 'object') t.ok(Object.isFrozen(value), `${name} is frozen`)
  }
})

t.test('metric names are valid Prometheus names, unique, counters end in _total', async (t) => {
  const names = [...Object.values(METRIC_NAMES), ...Object.values(OTEL_METRIC_NAMES), ...Object.values(RUNTIME_METRIC_NAMES)]
  t.equal(new Set(names).size, names.length, 'no name twice')
  for (const name of names) t.match(name, /^[a-z_][a-z0-9_]*$/, name)
  for (const name of [METRIC_NAMES.requestsTotal, METRIC_NAMES.exceptionsTotal, METRIC_NAMES.functionCalls]) t.match(name, /_total$/)
})

t.test('default buckets rise strictly; methods are upper case; error prefixes follow O11Y_ERR_<PKG>_', async (t) => {
  t.ok(DEFAULT_LATENCY_BUCKETS.every((b, i) => i === 0 || b > DEFAULT_LATENCY_BUCKETS[i - 1]!), 'strictly increasing')
  for (const m of KNOWN_HTTP_METHODS) t.match(m, /^[A-Z]+$/)
  for (const prefix of Object.values(ERROR_CODE_PREFIXES)) t.match(prefix, /^O11Y_ERR_[A-Z]+_$/)
})

t.test('the package holds only names: strings, numbers and frozen containers of them', async (t) => {
  for (const [name, value] of Object.entries(semconv)) {
    t.not(typeof value, 'function', `${name} is not code`)
  }
  t.ok(strings(semconv).length > 50, 'the names are reachable by walking the exports (tooling/checks does)')
})

t.test('the README lists every name (Telemetry emitted)', async (t) => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8')
  const values = new Set<string>()
  const walk = (value: unknown): void => {
    if (typeof value === 'string' || typeof value === 'number') values.add(String(value))
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(walk)
  }
  walk(semconv)
  for (const value of values) t.ok(readme.includes(`\`${value}\``), `${value} is in the README`)
  for (const name of Object.keys(semconv)) t.ok(readme.includes(name), `${name} is in the README`)
})
