import { context, logs } from '@opentelemetry/api'
import type { Logger as OtelLogger, LoggerProvider as OtelLoggerProvider } from '@opentelemetry/api'
import type { Resource } from '@opentelemetry/resources'
import type { BoundedBatchLogRecordProcessor } from './otlp-processor'
import { LOG_FIELDS, OTLP_DEFAULTS, OTLP_SCOPE_NAME, SEVERITY_NUMBERS, TRACING_RESOURCE_HOLDER } from './constants'
import { ERROR_CODES, LoggingError, describe, emitLoggingWarning } from './errors'
import { assertKnownOptions, isPlainObject } from './validate'
import type { OtlpProtocol } from './types'

export interface ResolvedOtlpOptions {
  protocol: OtlpProtocol
  /** Full URL: http(s)://host:port/v1/logs for http/protobuf, http(s)://host:port for grpc. */
  endpoint: string
  maxQueueSize: number
  maxExportBatchSize: number
  scheduledDelayMillis: number
  exportTimeoutMillis: number
  shutdownTimeoutMillis: number
}

const OTLP_OPTION_NAMES = ['endpoint', 'protocol', 'maxQueueSize', 'maxExportBatchSize', 'scheduledDelayMillis', 'exportTimeoutMillis', 'shutdownTimeoutMillis']
const PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'grpc']

function invalid (message: string): LoggingError {
  return new LoggingError(ERROR_CODES.INVALID_OTLP, message)
}

function nonEmpty (value: string | undefined): string | undefined {
  const trimmed = value?.trim()
  return trimmed === undefined || trimmed === '' ? undefined : trimmed
}

function checkUrl (url: string, what: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw invalid(`${what} must be an http:// or https:// URL (got ${describe(url)})`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalid(`${what} must be an http:// or https:// URL (got ${describe(url)})`)
  return url
}

function limit (value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw invalid(`option "otlp.${name}" must be an integer >= 1 (got ${describe(value)})`)
  return value
}

/**
 * OTLP export is on when `otlp` is an object or `true`, or when it is not given and
 * OTEL_LOGS_EXPORTER lists `otlp`; `otlp: false` turns it off whatever the environment says.
 * Options win over OTEL_EXPORTER_OTLP_LOGS_* which win over OTEL_EXPORTER_OTLP_*.
 * Returns null when export is off.
 */
export function resolveOtlpOptions (otlp: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedOtlpOptions | null {
  if (otlp === false) return null
  if (otlp === undefined) {
    const exporters = (env.OTEL_LOGS_EXPORTER ?? '').split(',').map((name) => name.trim().toLowerCase())
    if (!exporters.includes('otlp')) return null
    otlp = {}
  }
  if (otlp === true) otlp = {}
  if (!isPlainObject(otlp)) throw invalid(`option "otlp" must be false, true or an object { endpoint, protocol, ... } (got ${describe(otlp)})`)
  assertKnownOptions(otlp, OTLP_OPTION_NAMES, 'otlp')

  const protocolSource = otlp.protocol !== undefined ? 'option "otlp.protocol"' : nonEmpty(env.OTEL_EXPORTER_OTLP_LOGS_PROTOCOL) !== undefined ? 'OTEL_EXPORTER_OTLP_LOGS_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL'
  const protocol = otlp.protocol ?? nonEmpty(env.OTEL_EXPORTER_OTLP_LOGS_PROTOCOL) ?? nonEmpty(env.OTEL_EXPORTER_OTLP_PROTOCOL) ?? OTLP_DEFAULTS.protocol
  if (!PROTOCOLS.includes(protocol as OtlpProtocol)) throw invalid(`${protocolSource} must be one of ${PROTOCOLS.join(', ')} (got ${describe(protocol)})`)

  let endpoint: string
  if (otlp.endpoint !== undefined) {
    if (typeof otlp.endpoint !== 'string') throw invalid(`option "otlp.endpoint" must be a URL string (got ${describe(otlp.endpoint)})`)
    endpoint = checkUrl(otlp.endpoint, 'option "otlp.endpoint"')
  } else if (nonEmpty(env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT) !== undefined) {
    // The per-signal variable is the full URL, used as given.
    endpoint = checkUrl(nonEmpty(env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT)!, 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT')
  } else if (nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT) !== undefined) {
    // The shared variable is a base URL: OTLP/HTTP appends the signal's path, gRPC does not.
    const base = checkUrl(nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT)!, 'OTEL_EXPORTER_OTLP_ENDPOINT')
    endpoint = protocol === 'grpc' ? base : base.replace(/\/+$/, '') + OTLP_DEFAULTS.httpLogsPath
  } else {
    endpoint = protocol === 'grpc' ? OTLP_DEFAULTS.grpcEndpoint : OTLP_DEFAULTS.httpEndpoint + OTLP_DEFAULTS.httpLogsPath
  }

  const maxQueueSize = limit(otlp.maxQueueSize, 'maxQueueSize', OTLP_DEFAULTS.maxQueueSize)
  const maxExportBatchSize = limit(otlp.maxExportBatchSize, 'maxExportBatchSize', Math.min(OTLP_DEFAULTS.maxExportBatchSize, maxQueueSize))
  if (maxExportBatchSize > maxQueueSize) throw invalid(`option "otlp.maxExportBatchSize" (${maxExportBatchSize}) must not exceed "otlp.maxQueueSize" (${maxQueueSize})`)
  return {
    protocol: protocol as OtlpProtocol,
    endpoint,
    maxQueueSize,
    maxExportBatchSize,
    scheduledDelayMillis: limit(otlp.scheduledDelayMillis, 'scheduledDelayMillis', OTLP_DEFAULTS.scheduledDelayMillis),
    exportTimeoutMillis: limit(otlp.exportTimeoutMillis, 'exportTimeoutMillis', OTLP_DEFAULTS.exportTimeoutMillis),
    shutdownTimeoutMillis: limit(otlp.shutdownTimeoutMillis, 'shutdownTimeoutMillis', OTLP_DEFAULTS.shutdownTimeoutMillis)
  }
}

/** Fields of the line that become the OTLP record's own fields rather than attributes. */
const RECORD_OWN = new Set<string>([LOG_FIELDS.timestamp, LOG_FIELDS.level, LOG_FIELDS.message, LOG_FIELDS.traceId, LOG_FIELDS.spanId, LOG_FIELDS.traceFlags])

/**
 * The resource of the running tracing set-up: the one @o11y/tracing publishes under a global
 * symbol, else that of a LoggerProvider registered globally by the OpenTelemetry SDK (NodeSDK
 * registers one with the resource of its tracer provider and keeps it in `_sharedState.resource`).
 * Anything else (no tracing, another shape) gives undefined.
 */
function sharedTracingResource (): Resource | undefined {
  const published = (globalThis as Record<symbol, unknown>)[Symbol.for(TRACING_RESOURCE_HOLDER)]
  if (isResource(published)) return published
  const provider = logs.getLoggerProvider() as unknown as { _sharedState?: { resource?: unknown } }
  const resource = provider?._sharedState?.resource
  return isResource(resource) ? resource : undefined
}

/**
 * Whether a value found under a global name has the shape of an SDK Resource. The symbol is
 * global, so anything may sit there (another copy of a library, a test double, a Proxy whose
 * getters throw): a value of any other shape, or one that throws while being looked at, is not used.
 */
function isResource (value: unknown): value is Resource {
  if (value === null || typeof value !== 'object') return false
  try {
    const r = value as Resource
    return typeof r.merge === 'function' && typeof r.getRawAttributes === 'function' &&
      r.attributes !== null && typeof r.attributes === 'object'
  } catch {
    // o11y-gate-ignore error-observed: a throwing getter means "not a Resource"; the records then carry a detected resource
    return false
  }
}

function detectResource (): Resource {
  const resources = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources')
  const detected = resources.detectResources({
    detectors: [resources.hostDetector, resources.processDetector, resources.serviceInstanceIdDetector, resources.envDetector]
  })
  return resources.defaultResource().merge(detected)
}

/**
 * The OTLP side of one root logger (children share it): built on the first record, so a logger
 * created at import time picks up the resource of tracing started later, and an app that never
 * logs loads nothing.
 */
export class OtlpSink {
  private logger: OtelLogger | undefined
  private provider: OtelLoggerProvider & { forceFlush: () => Promise<void>, shutdown: () => Promise<void> } | undefined
  private processor: BoundedBatchLogRecordProcessor | undefined
  private broken = false
  private stopped = false
  private failedBuild = 0
  private droppedAfterStop = 0
  /** Where the resource came from: `tracing` (@o11y/tracing's, or a global SDK LoggerProvider's) or `detected`. */
  resourceSource: 'tracing' | 'detected' | undefined

  constructor (readonly options: ResolvedOtlpOptions) {}

  private build (): OtelLogger | undefined {
    if (this.logger !== undefined || this.broken) return this.logger
    try {
      const sdk = require('@opentelemetry/sdk-logs') as typeof import('@opentelemetry/sdk-logs')
      const { BoundedBatchLogRecordProcessor } = require('./otlp-processor') as typeof import('./otlp-processor')
      const { protocol, endpoint, exportTimeoutMillis } = this.options
      const exporter = protocol === 'grpc'
        ? new (require('@opentelemetry/exporter-logs-otlp-grpc') as typeof import('@opentelemetry/exporter-logs-otlp-grpc')).OTLPLogExporter({ url: endpoint, timeoutMillis: exportTimeoutMillis })
        : new (require('@opentelemetry/exporter-logs-otlp-proto') as typeof import('@opentelemetry/exporter-logs-otlp-proto')).OTLPLogExporter({ url: endpoint, timeoutMillis: exportTimeoutMillis })
      const shared = sharedTracingResource()
      this.resourceSource = shared === undefined ? 'detected' : 'tracing'
      this.processor = new BoundedBatchLogRecordProcessor(exporter, this.options)
      this.provider = new sdk.LoggerProvider({ resource: shared ?? detectResource(), processors: [this.processor] })
      this.logger = this.provider.getLogger(OTLP_SCOPE_NAME)
    } catch (error) {
      // o11y-gate-ignore error-observed: reported as a coded warning; stdout logging goes on
      this.broken = true
      emitLoggingWarning(ERROR_CODES.OTLP_EXPORT_FAILED, `OTLP log export cannot start (${error instanceof Error ? error.message : String(error)}); records are counted in loggingStats(logger).otlpFailed`)
    }
    return this.logger
  }

  /** Emits one written line (already redacted and capped) as an OTLP record in the active context. */
  emit (line: string): void {
    if (this.stopped) {
      this.droppedAfterStop++
      return
    }
    const logger = this.build()
    if (logger === undefined) {
      this.failedBuild++
      return
    }
    let fields: Record<string, unknown>
    try {
      fields = JSON.parse(line) as Record<string, unknown>
    } catch {
      // o11y-gate-ignore error-observed: a line that is not JSON is exported as its text
      fields = { [LOG_FIELDS.message]: line.trimEnd() }
    }
    const attributes: Record<string, unknown> = {}
    for (const key in fields) if (!RECORD_OWN.has(key)) attributes[key] = fields[key]
    const level = fields[LOG_FIELDS.level]
    const stamp = fields[LOG_FIELDS.timestamp]
    const time = typeof stamp === 'string' ? Date.parse(stamp) : NaN
    const message = fields[LOG_FIELDS.message]
    logger.emit({
      timestamp: Number.isNaN(time) ? Date.now() : time,
      severityNumber: typeof level === 'string' ? SEVERITY_NUMBERS[level] ?? 0 : 0,
      severityText: typeof level === 'string' ? level : undefined,
      body: typeof message === 'string' ? message : undefined,
      attributes: attributes as Record<string, never>,
      // The SDK takes trace_id, span_id and trace_flags from the span in this context.
      context: context.active()
    })
  }

  stats (): { otlpExported: number, otlpDropped: number, otlpFailed: number, otlpQueued: number } {
    const counts = this.processor?.counts ?? { exported: 0, dropped: 0, failed: 0 }
    return { otlpExported: counts.exported, otlpDropped: counts.dropped + this.droppedAfterStop, otlpFailed: counts.failed + this.failedBuild, otlpQueued: this.processor?.queued() ?? 0 }
  }

  /** Exports what is queued now, giving up after `timeoutMs` (what is left stays queued). */
  async flush (timeoutMs = this.options.shutdownTimeoutMillis): Promise<boolean> {
    if (this.provider === undefined) return true
    return await bounded(this.provider.forceFlush(), timeoutMs)
  }

  /** Flushes and stops export for good, within `timeoutMs`; later records are dropped and counted. */
  async shutdown (timeoutMs = this.options.shutdownTimeoutMillis): Promise<boolean> {
    this.stopped = true
    if (this.provider === undefined) return true
    return await bounded(this.provider.shutdown(), timeoutMs)
  }
}

async function bounded (work: Promise<void>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs)
    timer.unref()
  })
  try {
    return await Promise.race([work.then(() => true, () => false), timedOut])
  } finally {
    clearTimeout(timer)
  }
}
