// The bounded batch queue behind @o11y/tracing's span processor and @o11y/logging's log record
// processor. The SDK's batch processors keep what they drop private and let a hanging exporter
// hold every later batch; this one has a hard bound, one export in flight, a timeout on every
// export, and counts what it exports, drops and loses.
import { context } from '@opentelemetry/api'
import { ExportResultCode, suppressTracing, type ExportResult } from '@opentelemetry/core'

export interface ExportQueueOptions {
  /** Items held at most; one more is dropped and counted. */
  maxQueueSize: number
  /** Items per export; a full batch is exported at once, a partial one after `scheduledDelayMillis`. */
  maxExportBatchSize: number
  /** How long a partial batch waits for more items. */
  scheduledDelayMillis: number
  /** Bound of one export, from the call to the exporter's answer (the wait for detected resource attributes included). */
  exportTimeoutMillis: number
}

/** What the queue did with the items it was given. `dropped + exported + failed + queued` is every item offered. */
export interface ExportCounts {
  /** Items the exporter acknowledged. */
  exported: number
  /** Items refused because the queue was full, or offered after shutdown. */
  dropped: number
  /** Items of exports that failed, threw or timed out. */
  failed: number
}

/** The part of an OpenTelemetry SDK exporter (SpanExporter, LogRecordExporter) the queue calls. */
export interface BatchExporter<T> {
  export: (items: T[], resultCallback: (result: ExportResult) => void) => void
  shutdown: () => Promise<void>
}

/** What the queue tells its owner, each at most once per queue. */
export interface ExportQueueEvents {
  /** The queue was full for the first time: an item was dropped. */
  onFirstDrop?: () => void
  /** An export failed, threw or timed out for the first time; `reason` says which. */
  onFirstFailure?: (reason: string) => void
}

export { ExportResultCode, type ExportResult } from '@opentelemetry/core'

/** A span's or log record's resource, whose detected attributes may still be on their way (any other item has none). */
interface PendingResource {
  asyncAttributesPending?: boolean
  waitForAsyncAttributes?: () => Promise<void>
}

export class BoundedExportQueue<T extends object> {
  /** Live numbers: read them at any time. */
  readonly counts: ExportCounts = { exported: 0, dropped: 0, failed: 0 }
  private queue: T[] = []
  private timer: NodeJS.Timeout | undefined
  private inFlight: Promise<void> | undefined
  /** Items taken out of the queue for an export, ever; every one of them ends as exported or failed. */
  private taken = 0
  private isStopped = false
  private warnedDrop = false
  private warnedFailure = false

  constructor (
    private readonly exporter: BatchExporter<T>,
    private readonly options: ExportQueueOptions,
    private readonly events: ExportQueueEvents = {}
  ) {}

  /** Items waiting for an export. */
  get queued (): number {
    return this.queue.length
  }

  /** True once `shutdown()` was called: later items are dropped. */
  get stopped (): boolean {
    return this.isStopped
  }

  /**
   * Queues one item, or drops and counts it when the queue is full or shut down. Runs on the
   * caller's path (a request's span end or log call): it only pushes to an array.
   */
  add (item: T): void {
    if (this.isStopped) {
      this.counts.dropped++
      return
    }
    if (this.queue.length >= this.options.maxQueueSize) {
      this.counts.dropped++
      if (!this.warnedDrop) {
        this.warnedDrop = true
        this.notify(this.events.onFirstDrop)
      }
      return
    }
    this.queue.push(item)
    if (this.queue.length >= this.options.maxExportBatchSize) this.exportSoon()
    else this.schedule()
  }

  /**
   * Exports what is queued now, batch by batch, and resolves when those items have been exported
   * or have failed. Items added meanwhile are not waited for: under a steady stream of new items
   * a flush still ends (exports keep their order, so the items of this call are settled once as
   * many items as were taken before it plus the ones queued now have settled). Never rejects.
   */
  async forceFlush (): Promise<void> {
    this.clearTimer()
    const target = this.taken + this.queue.length
    while (this.counts.exported + this.counts.failed < target) {
      if (this.inFlight === undefined) {
        /* c8 ignore next */
        if (this.queue.length === 0) break // cannot happen: every item not yet settled is queued or in flight
        this.inFlight = this.exportBatch(this.takeBatch()).finally(() => { this.inFlight = undefined })
      }
      await this.inFlight
    }
    // What arrived during the flush goes out as usual.
    if (!this.isStopped && this.queue.length > 0) this.schedule()
  }

  /** Flushes, stops taking items and shuts the exporter down; a second call does nothing. */
  async shutdown (): Promise<void> {
    if (this.isStopped) return
    await this.forceFlush()
    this.isStopped = true
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
      if (this.isStopped) return
      if (this.queue.length >= this.options.maxExportBatchSize) this.exportSoon()
      else if (this.queue.length > 0) this.schedule()
    })
  }

  private takeBatch (): T[] {
    const batch = this.queue.splice(0, this.options.maxExportBatchSize)
    this.taken += batch.length
    return batch
  }

  /** One export, settled exactly once: by the exporter's answer, its throw, or the timeout. Never rejects. */
  private exportBatch (batch: T[]): Promise<void> {
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
      const timeout = setTimeout(() => finish(false, `no answer within ${this.options.exportTimeoutMillis} ms`), this.options.exportTimeoutMillis)
      timeout.unref()
      const send = (): void => {
        if (settled) return
        try {
          // The exporter's own HTTP calls must not be traced (nor come back into a queue).
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
      const resource = (batch[0] as { readonly resource?: PendingResource } | undefined)?.resource
      if (resource?.asyncAttributesPending === true && resource.waitForAsyncAttributes !== undefined) {
        resource.waitForAsyncAttributes().then(send, send)
      } else {
        send()
      }
    })
  }

  private fail (items: number, reason: string): void {
    this.counts.failed += items
    if (!this.warnedFailure) {
      this.warnedFailure = true
      this.notify(this.events.onFirstFailure, reason)
    }
  }

  /** Runs an owner's callback; one that throws cannot break the queue or its caller. */
  private notify<A extends unknown[]> (callback: ((...args: A) => void) | undefined, ...args: A): void {
    if (callback === undefined) return
    try {
      callback(...args)
    } catch {
      // o11y-gate-ignore error-observed: the owner's warning callback threw; the queue keeps its counts and goes on
    }
  }
}
