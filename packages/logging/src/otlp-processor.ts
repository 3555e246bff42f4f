import { context } from '@opentelemetry/api'
import { ExportResultCode, suppressTracing, type ExportResult } from '@opentelemetry/core'
import type { LogRecordExporter, LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord } from '@opentelemetry/sdk-logs'
import { ERROR_CODES, emitLoggingWarning } from './errors'

export interface BoundedLogBatchOptions {
  maxQueueSize: number
  maxExportBatchSize: number
  scheduledDelayMillis: number
  exportTimeoutMillis: number
}

export interface OtlpCounts {
  exported: number
  dropped: number
  failed: number
}

/**
 * A batch log record processor with a hard queue bound, one export in flight at a time and a
 * timeout on every export, that counts what it drops and what fails. The SDK's
 * BatchLogRecordProcessor keeps those numbers private (and only logs a diag message when its
 * queue is full), so this one does the same job in the open, like @o11y/tracing's span processor.
 * `onEmit` runs inside the log call (on the request path): it only pushes to an array.
 */
export class BoundedBatchLogRecordProcessor implements LogRecordProcessor {
  private queue: ReadableLogRecord[] = []
  private timer: NodeJS.Timeout | undefined
  private inFlight: Promise<void> | undefined
  private stopped = false
  private warnedDrop = false
  private warnedFailure = false
  readonly counts: OtlpCounts = { exported: 0, dropped: 0, failed: 0 }

  constructor (private readonly exporter: LogRecordExporter, private readonly options: BoundedLogBatchOptions) {}

  queued (): number {
    return this.queue.length
  }

  onEmit (record: ReadWriteLogRecord): void {
    if (this.stopped) {
      this.counts.dropped++
      return
    }
    if (this.queue.length >= this.options.maxQueueSize) {
      this.counts.dropped++
      if (!this.warnedDrop) {
        this.warnedDrop = true
        emitLoggingWarning(ERROR_CODES.OTLP_DROPPED, `OTLP log export queue is full (${this.options.maxQueueSize} records): dropping log records until the collector catches up; see loggingStats(logger).otlpDropped`)
      }
      return
    }
    this.queue.push(record)
    if (this.queue.length >= this.options.maxExportBatchSize) this.exportSoon()
    else this.schedule()
  }

  async forceFlush (): Promise<void> {
    this.clearTimer()
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

  private takeBatch (): ReadableLogRecord[] {
    return this.queue.splice(0, this.options.maxExportBatchSize)
  }

  private exportBatch (batch: ReadableLogRecord[]): Promise<void> {
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
      // One bound for the whole export, the wait for detected resource attributes included.
      const timeout = setTimeout(() => finish(false, `no answer within ${this.options.exportTimeoutMillis} ms`), this.options.exportTimeoutMillis)
      timeout.unref()
      const send = (): void => {
        if (settled) return
        try {
          // The exporter's own HTTP/2 or HTTP calls must not be traced.
          context.with(suppressTracing(context.active()), () => {
            this.exporter.export(batch, (result: ExportResult) => {
              finish(result.code === ExportResultCode.SUCCESS, result.error?.message ?? 'export failed')
            })
          })
        } catch (err) {
          finish(false, err instanceof Error ? err.message : String(err))
        }
      }
      const resource = batch[0]?.resource
      if (resource?.asyncAttributesPending === true && resource.waitForAsyncAttributes !== undefined) {
        resource.waitForAsyncAttributes().then(send, send)
      } else {
        send()
      }
    })
  }

  private fail (records: number, reason: string): void {
    this.counts.failed += records
    if (!this.warnedFailure) {
      this.warnedFailure = true
      emitLoggingWarning(ERROR_CODES.OTLP_EXPORT_FAILED, `OTLP log export failed (${reason}); records are counted in loggingStats(logger).otlpFailed, stdout lines and the application are unaffected`)
    }
  }
}
