import { performance, type EventLoopUtilization } from 'node:perf_hooks'
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import { METRIC_NAMES } from './constants'

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
  }
  return shared
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
  return added
}
