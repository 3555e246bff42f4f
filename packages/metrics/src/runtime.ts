import { readdirSync, readFileSync, statSync } from 'node:fs'
import { performance, type EventLoopUtilization } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client'
import { RUNTIME_METRIC_NAMES } from '@o11y/semconv'
import { LOGGING_DROPPED_HOOK, METRIC_NAMES } from './constants'

let shared: Registry | null = null

/**
 * prom-client gauges whose names end in `_total` (promtool: "non-counter metrics should not have
 * _total suffix"). The same numbers are in nodejs_active_handles / _requests / _resources by type.
 */
const LEFT_OUT = new Set(['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])

/**
 * prom-client's default metrics start an event-loop-delay monitor and a GC PerformanceObserver
 * on every `collectDefaultMetrics` call and never stop them. They describe the process, not an
 * app, so they are collected once per process into a private registry (never prom-client's global
 * one) and the same metric objects are added to every instance's registry.
 */
function sharedRuntimeRegistry (): Registry {
  if (shared === null) {
    shared = new Registry()
    collectDefaultMetrics({ register: shared })
    for (const name of LEFT_OUT) shared.removeSingleMetric(name)
    cheaperMemoryCollectors(shared)
    cheaperOpenFdsCollector(shared)
  }
  return shared
}

type SettableGauge = Gauge & { collect?: () => void }

/**
 * Two of prom-client's collectors read their numbers the long way on every scrape: the heap
 * gauges call `process.memoryUsage()`, which also reads /proc/self/stat for an RSS nobody uses
 * here, and the Linux memory gauges split all of /proc/self/status into lines to find three of
 * them. Same sources, same numbers, same order of `set` calls: the heap figures come from
 * `v8.getHeapStatistics()` (what `memoryUsage()` reads them from), the status fields are found by
 * name. Each replacement is only installed when its source offers what it needs.
 */
function cheaperMemoryCollectors (registry: Registry): void {
  const gauge = (name: string): SettableGauge | undefined => registry.getSingleMetric(name) as SettableGauge | undefined
  const heapTotal = gauge(RUNTIME_METRIC_NAMES.heapTotal)
  const heapUsed = gauge(RUNTIME_METRIC_NAMES.heapUsed)
  const external = gauge('nodejs_external_memory_bytes')
  if (heapTotal?.collect !== undefined && heapUsed !== undefined && external !== undefined &&
    typeof getHeapStatistics().external_memory === 'number') {
    heapTotal.collect = function collectHeapSize () {
      const stats = getHeapStatistics()
      heapTotal.set(stats.total_heap_size)
      heapUsed.set(stats.used_heap_size)
      external.set(stats.external_memory)
    }
  }
  const resident = gauge(RUNTIME_METRIC_NAMES.residentMemory)
  const virtual = gauge('process_virtual_memory_bytes')
  const heap = gauge('process_heap_bytes')
  if (resident?.collect !== undefined && virtual !== undefined && heap !== undefined) {
    resident.collect = function collectProcessMemory () {
      let status: string
      try {
        status = readFileSync('/proc/self/status', 'utf8')
      } catch {
        // o11y-gate-ignore error-observed: no /proc (or it is unreadable): the gauges keep their last values this scrape, as prom-client's own collector does
        return
      }
      // prom-client sets RSS, size, data in this order and stops at the first field it lacks.
      for (const [g, field] of [[resident, 'VmRSS'], [virtual, 'VmSize'], [heap, 'VmData']] as const) {
        const bytes = statusKilobytes(status, field)
        if (bytes === undefined) return
        g.set(bytes * 1024)
      }
    }
  }
}

/**
 * The number of open file descriptors as Linux 6.2 and later report it: the size of the
 * /proc/self/fd directory. Undefined where the kernel reports no size (0 before 6.2) or the
 * directory cannot be read.
 */
export function openFdsByStat (): number | undefined {
  try {
    const size = statSync('/proc/self/fd').size
    return size > 0 ? size : undefined
  } catch {
    // o11y-gate-ignore error-observed: no /proc: the caller keeps prom-client's way (which finds nothing either)
    return undefined
  }
}

/**
 * prom-client counts open file descriptors by listing /proc/self/fd (one string per descriptor,
 * 26 µs with 50 open) and subtracting the one the listing itself used. Since Linux 6.2 the
 * directory's size is that count (2.5 µs). The replacement is installed only where the kernel
 * reports the size and it agrees with a listing; a failed read at scrape time falls back to the
 * listing, so the gauge never reads differently from prom-client's.
 */
function cheaperOpenFdsCollector (registry: Registry): void {
  const openFds = registry.getSingleMetric('process_open_fds') as SettableGauge | undefined
  if (openFds?.collect === undefined) return
  const bySize = openFdsByStat()
  if (bySize === undefined || bySize !== readdirSync('/proc/self/fd').length - 1) return
  const listing = openFds.collect
  openFds.collect = function collectOpenFds () {
    const n = openFdsByStat()
    if (n === undefined) listing.call(openFds)
    else openFds.set(n)
  }
}

/**
 * The number of a `Field:   123 kB` line of /proc/self/status, read as prom-client reads it:
 * the text after the colon, trimmed, without its last three characters.
 */
export function statusKilobytes (status: string, field: string): number | undefined {
  const key = field + ':'
  let at: number
  if (status.startsWith(key)) at = key.length
  else {
    const line = status.indexOf('\n' + key)
    if (line < 0) return undefined
    at = line + 1 + key.length
  }
  let end = status.indexOf('\n', at)
  if (end < 0) end = status.length
  const text = status.slice(at, end).trim()
  return Number(text.slice(0, text.length - 3))
}

/** Adds the runtime metrics to `registry`; returns the names it added (to remove them on close). */
export function addRuntimeMetrics (registry: Registry): string[] {
  const added: string[] = []
  for (const metric of sharedRuntimeRegistry().getMetricsAsArray()) {
    const name = (metric as unknown as { name: string }).name
    // A user registry may already carry prom-client's defaults: keep theirs.
    if (registry.getSingleMetric(name) !== undefined) continue
    registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0])
    added.push(name)
  }
  if (registry.getSingleMetric(METRIC_NAMES.eventLoopUtilization) === undefined) {
    let last: EventLoopUtilization = performance.eventLoopUtilization()
    new Gauge({
      name: METRIC_NAMES.eventLoopUtilization,
      help: 'Event loop utilization (0..1) since the previous scrape of this registry.',
      registers: [registry],
      collect () {
        const now = performance.eventLoopUtilization()
        this.set(performance.eventLoopUtilization(now, last).utilization)
        last = now
      }
    })
    added.push(METRIC_NAMES.eventLoopUtilization)
  }
  if (registry.getSingleMetric(METRIC_NAMES.loggingDroppedLines) === undefined) {
    let seen = 0
    new Counter({
      name: METRIC_NAMES.loggingDroppedLines,
      help: 'Log lines @o11y/logging dropped because its destination was full or broken (0 without @o11y/logging).',
      registers: [registry],
      collect () {
        const reader = (globalThis as Record<symbol, unknown>)[Symbol.for(LOGGING_DROPPED_HOOK)]
        const dropped = typeof reader === 'function' ? Number((reader as () => unknown)()) : 0
        // A counter only goes up: add what the process-wide total moved since the last scrape.
        if (Number.isFinite(dropped) && dropped > seen) {
          this.inc(dropped - seen)
          seen = dropped
        }
      }
    })
    added.push(METRIC_NAMES.loggingDroppedLines)
  }
  return added
}
