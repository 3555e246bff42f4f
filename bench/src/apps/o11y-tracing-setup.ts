import { CountingExporter } from '../counting-exporter'

/**
 * @o11y/tracing as a user starts it (before fastify is loaded), with the same sampling as the
 * peers and the same counting exporter behind its own batch processor. `fastify`: the plugin
 * options startTracing installs on every instance (lifecycleSpans is fixed there).
 */
export function startO11yTracing (fastify: { lifecycleSpans?: boolean } = {}): { exporter: CountingExporter, shutdown: () => Promise<void>, stats: () => Promise<Record<string, number>> } {
  const { startTracing } = require('@o11y/tracing') as typeof import('@o11y/tracing')
  const exporter = new CountingExporter()
  const handle = startTracing({ serviceName: 'bench', sampler: 'parentbased_always_on', exporter, fastify })
  return {
    exporter,
    shutdown: () => handle.shutdown(),
    stats: async () => {
      await handle.forceFlush()
      const s = handle.stats()
      return { spansExported: exporter.exported, spansDropped: s.dropped, spansFailed: s.failed }
    }
  }
}
