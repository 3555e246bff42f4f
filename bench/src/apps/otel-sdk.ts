import { CountingExporter } from '../counting-exporter'

/**
 * The usual OpenTelemetry set-up of a Fastify service: NodeSDK with instrumentation-http (SERVER
 * span) and @fastify/otel (request lifecycle spans), 100% sampling, the SDK's BatchSpanProcessor
 * with its defaults into a counting exporter. No metric readers and no log exporters (NodeSDK
 * would otherwise start OTLP exporters for both). Must run before fastify and http are loaded.
 */
export function startPeerSdk (withPino: boolean): { exporter: CountingExporter, forceFlush: () => Promise<void>, shutdown: () => Promise<void> } {
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node')
  const { BatchSpanProcessor, ParentBasedSampler, AlwaysOnSampler } = require('@opentelemetry/sdk-trace') as typeof import('@opentelemetry/sdk-trace')
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http')
  const { FastifyOtelInstrumentation } = require('@fastify/otel') as typeof import('@fastify/otel')
  const exporter = new CountingExporter()
  const instrumentations: NonNullable<NonNullable<ConstructorParameters<typeof NodeSDK>[0]>['instrumentations']> = [
    new HttpInstrumentation(),
    new FastifyOtelInstrumentation({ registerOnInitialization: true })
  ]
  if (withPino) {
    const { PinoInstrumentation } = require('@opentelemetry/instrumentation-pino') as typeof import('@opentelemetry/instrumentation-pino')
    // Trace ids into the log lines, as @o11y/logging does; sending logs to the OTel Logs SDK is
    // off because no log exporter runs in any scenario.
    instrumentations.push(new PinoInstrumentation({ disableLogSending: true }))
  }
  const processor = new BatchSpanProcessor({ exporter })
  const sdk = new NodeSDK({
    serviceName: 'bench',
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanProcessors: [processor],
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations
  })
  sdk.start()
  return { exporter, forceFlush: () => processor.forceFlush(), shutdown: () => sdk.shutdown() }
}
