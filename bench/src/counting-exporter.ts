import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace'

type ResultCallback = Parameters<SpanExporter['export']>[1]

/**
 * A span exporter that only counts: the export pipeline (span building, batching) is measured,
 * the network is not. Used by the peers' NodeSDK and by @o11y/tracing alike.
 */
export class CountingExporter implements SpanExporter {
  exported = 0
  batches = 0

  export (spans: ReadableSpan[], resultCallback: ResultCallback): void {
    this.exported += spans.length
    this.batches++
    resultCallback({ code: 0 })
  }

  async shutdown (): Promise<void> {}

  async forceFlush (): Promise<void> {}
}
