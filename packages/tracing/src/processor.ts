import { TraceFlags, type Context } from '@opentelemetry/api'
import { BoundedExportQueue, type ExportQueueOptions } from '@o11y/export-queue'
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace'
import { ERROR_CODES } from './errors'
import type { WarningLogger } from './errors'
import type { ExportStats } from './types'

export interface BoundedBatchOptions extends ExportQueueOptions {
  logger: WarningLogger
}

/**
 * A batch span processor over @o11y/export-queue: a hard queue bound, one export in flight at a
 * time and a timeout on every export, with counts of what is dropped and what fails (the SDK's
 * BatchSpanProcessor keeps these numbers private). A dead or hanging collector therefore costs at
 * most `maxQueueSize` spans of memory and never blocks `onEnd`, which runs on the request path.
 */
export class BoundedBatchSpanProcessor implements SpanProcessor {
  private readonly queue: BoundedExportQueue<ReadableSpan>

  constructor (exporter: SpanExporter, options: BoundedBatchOptions) {
    const { logger, ...limits } = options
    this.queue = new BoundedExportQueue<ReadableSpan>(exporter, limits, {
      onFirstDrop: () => logger.warn(`span export queue is full (${limits.maxQueueSize} spans): dropping spans until the exporter catches up; see stats().dropped`, ERROR_CODES.QUEUE_FULL),
      onFirstFailure: (reason) => logger.warn(`span export failed (${reason}); spans are counted in stats().failed and the application is unaffected`, ERROR_CODES.EXPORT_FAILED)
    })
  }

  stats (): ExportStats {
    return { ...this.queue.counts, queued: this.queue.queued, hookErrors: 0 }
  }

  onStart (_span: Span, _parentContext: Context): void {}

  onEnd (span: ReadableSpan): void {
    // After shutdown, spans that still end are not ours to count (the SDK has stopped too).
    if (this.queue.stopped || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return
    this.queue.add(span)
  }

  async forceFlush (): Promise<void> {
    await this.queue.forceFlush()
  }

  async shutdown (): Promise<void> {
    await this.queue.shutdown()
  }
}
