import { BoundedExportQueue, type ExportCounts, type ExportQueueOptions } from '@o11y/export-queue'
import type { LogRecordExporter, LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord } from '@opentelemetry/sdk-logs'
import { ERROR_CODES, emitLoggingWarning } from './errors'

export type BoundedLogBatchOptions = ExportQueueOptions

export type OtlpCounts = ExportCounts

/**
 * A batch log record processor over @o11y/export-queue (the queue behind @o11y/tracing's span
 * processor too): a hard queue bound, one export in flight at a time and a timeout on every
 * export, with counts of what is dropped and what fails. The SDK's BatchLogRecordProcessor keeps
 * those numbers private (and only logs a diag message when its queue is full). `onEmit` runs
 * inside the log call (on the request path): it only pushes to an array.
 */
export class BoundedBatchLogRecordProcessor implements LogRecordProcessor {
  private readonly queue: BoundedExportQueue<ReadableLogRecord>
  readonly counts: OtlpCounts

  constructor (exporter: LogRecordExporter, options: BoundedLogBatchOptions) {
    this.queue = new BoundedExportQueue<ReadableLogRecord>(exporter, options, {
      onFirstDrop: () => emitLoggingWarning(ERROR_CODES.OTLP_DROPPED, `OTLP log export queue is full (${options.maxQueueSize} records): dropping log records until the collector catches up; see loggingStats(logger).otlpDropped`),
      onFirstFailure: (reason) => emitLoggingWarning(ERROR_CODES.OTLP_EXPORT_FAILED, `OTLP log export failed (${reason}); records are counted in loggingStats(logger).otlpFailed, stdout lines and the application are unaffected`)
    })
    this.counts = this.queue.counts
  }

  queued (): number {
    return this.queue.queued
  }

  onEmit (record: ReadWriteLogRecord): void {
    // After shutdown a record is dropped and counted, like one that finds the queue full.
    this.queue.add(record)
  }

  async forceFlush (): Promise<void> {
    await this.queue.forceFlush()
  }

  async shutdown (): Promise<void> {
    await this.queue.shutdown()
  }
}
