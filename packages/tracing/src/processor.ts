import { context, TraceFlags, type Context } from '@opentelemetry/api'
import { ExportResultCode, suppressTracing, type ExportResult } from '@opentelemetry/core'
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace'
import { ERROR_CODES } from './errors'
import type { WarningLogger } from './errors'
import type { ExportStats } from './types'

export interface BoundedBatchOptions {
  maxQueueSize: number
  maxExportBatchSize: number
  scheduledDelayMillis: number
  exportTimeoutMillis: number
  logger: WarningLogger
}

/**
 * A batch span processor with a hard queue bound, one export in flight at a time and a timeout on
 * every export, that counts what it drops and what fails (the SDK's BatchSpanProcessor keeps these
 * numbers private). A dead or hanging collector therefore costs at most `maxQueueSize` spans of
 * memory and never blocks `onEnd`, which runs on the request path.
 */
export class BoundedBatchSpanProcessor implements SpanProcessor {
  private queue: ReadableSpan[] = []
  private timer: NodeJS.Timeout | undefined
  private inFlight: Promise<void> | undefined
  private stopped = false
  private warnedDrop = false
  private warnedFailure = false
  private readonly counts = { exported: 0, dropped: 0, failed: 0 }

  constructor (private readonly exporter: SpanExporter, private readonly options: BoundedBatchOptions) {}

  stats (): ExportStats {
    return { ...this.counts, queued: this.queue.length, hookErrors: 0 }
  }

  onStart (_span: Span, _parentContext: Context): void {}

  onEnd (span: ReadableSpan): void {
    if (this.stopped || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return
    if (this.queue.length >= this.options.maxQueueSize) {
      this.counts.dropped++
      if (!this.warnedDrop) {
        this.warnedDrop = true
        this.options.logger.warn(`span export queue is full (${this.options.maxQueueSize} spans): dropping spans until the exporter catches up; see stats().dropped`, ERROR_CODES.QUEUE_FULL)
      }
      return
    }
    this.queue.push(span)
    if (this.queue.length >= this.options.maxExportBatchSize) this.exportSoon()
    else this.schedule()
  }

  async forceFlush (): Promise<void> {
    this.clearTimer()
    // Drain what is queued now; spans ended meanwhile wait for the next tick.
    let remaining = this.queue.length
    while (true) {
      while (this.inFlight !== undefined) await this.inFlight
      if (remaining <= 0 || this.queue.length === 0) break
      const batch = this.takeBatch()
      remaining -= batch.length
      this.inFlight = this.exportBatch(batch).finally(() => { this.inFlight = undefined })
    }
  }

  async shutdown (): Promise<void> {
    if (this.stopped) return
    await this.forceFlush()
    this.stopped = true
    this.clearTimer()
    await this.exporter.shutdown()
  }

  private schedule (): void {
    if (this.timer !== undefined || this.inFlight !== undefined) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.exportSoon()
    }, this.options.scheduledDelayMillis)
    this.timer.unref()
  }

  private clearTimer (): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  private exportSoon (): void {
    if (this.inFlight !== undefined || this.queue.length === 0) return
    this.clearTimer()
    this.inFlight = this.exportBatch(this.takeBatch()).finally(() => {
      this.inFlight = undefined
      if (this.stopped) return
      if (this.queue.length >= this.options.maxExportBatchSize) this.exportSoon()
      else if (this.queue.length > 0) this.schedule()
    })
  }

  private takeBatch (): ReadableSpan[] {
    return this.queue.splice(0, this.options.maxExportBatchSize)
  }

  private exportBatch (batch: ReadableSpan[]): Promise<void> {
    return new Promise<void>((resolve) => {
      let settled = false
      const finish = (ok: boolean, reason: string): void => {
        if (settled) return
        settled = true
        clearTimeout(timeout)
        if (ok) this.counts.exported += batch.length
        else this.fail(batch.length, reason)
        resolve()
      }
      // One bound for the whole export, including the wait for detected resource attributes.
      const timeout = setTimeout(() => finish(false, `no answer within ${this.options.exportTimeoutMillis} ms`), this.options.exportTimeoutMillis)
      timeout.unref()
      const send = (): void => {
        if (settled) return
        try {
          // The exporter's own HTTP calls must not be traced (and must not recurse into this queue).
          context.with(suppressTracing(context.active()), () => {
            this.exporter.export(batch, (result: ExportResult) => {
              finish(result.code === ExportResultCode.SUCCESS, result.error?.message ?? 'export failed')
            })
          })
        } catch (err) {
          finish(false, err instanceof Error ? err.message : String(err))
        }
      }
      // Detectors may resolve some resource attributes asynchronously (host.id, container.id).
      const resource = batch[0]?.resource
      if (resource?.asyncAttributesPending === true && resource.waitForAsyncAttributes !== undefined) {
        resource.waitForAsyncAttributes().then(send, send)
      } else {
        send()
      }
    })
  }

  private fail (spans: number, reason: string): void {
    this.counts.failed += spans
    if (!this.warnedFailure) {
      this.warnedFailure = true
      this.options.logger.warn(`span export failed (${reason}); spans are counted in stats().failed and the application is unaffected`, ERROR_CODES.EXPORT_FAILED)
    }
  }
}
