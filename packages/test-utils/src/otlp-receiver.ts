import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { constants as h2, createServer as createHttp2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import protobuf from 'protobufjs'

/**
 * The part of the OTLP trace schema (opentelemetry/proto, trace/v1 + common/v1 + resource/v1)
 * a receiver needs to decode ExportTraceServiceRequest. Written from the public field numbers.
 */
const OTLP_TRACE_PROTO = `
syntax = "proto3";
package otlp;
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message Status { string message = 2; int32 code = 3; }
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  fixed32 flags = 16;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10;
  message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
  repeated Event events = 11;
  uint32 dropped_events_count = 12;
  message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; uint32 dropped_attributes_count = 5; fixed32 flags = 6; }
  repeated Link links = 13;
  uint32 dropped_links_count = 14;
  Status status = 15;
}
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; string schema_url = 3; }
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; string schema_url = 3; }
message LogRecord {
  fixed64 time_unix_nano = 1;
  fixed64 observed_time_unix_nano = 11;
  int32 severity_number = 2;
  string severity_text = 3;
  AnyValue body = 5;
  repeated KeyValue attributes = 6;
  uint32 dropped_attributes_count = 7;
  fixed32 flags = 8;
  bytes trace_id = 9;
  bytes span_id = 10;
  string event_name = 12;
}
`

let protoRoot: protobuf.Root | undefined
function otlpType (name: string): protobuf.Type {
  protoRoot ??= protobuf.parse(OTLP_TRACE_PROTO, { keepCase: false }).root
  return protoRoot.lookupType(`otlp.${name}`)
}
function exportTraceServiceRequest (): protobuf.Type {
  return otlpType('ExportTraceServiceRequest')
}

/** One decoded OTLP log record (ExportLogsServiceRequest), flattened with its resource and scope. */
export interface ReceivedLog {
  timeUnixNano: string
  observedTimeUnixNano: string
  /** OpenTelemetry SeverityNumber: 1 TRACE, 5 DEBUG, 9 INFO, 13 WARN, 17 ERROR, 21 FATAL. */
  severityNumber: number
  severityText: string
  body: unknown
  attributes: Record<string, unknown>
  /** 32 hex digits, empty when the record has no trace context. */
  traceId: string
  /** 16 hex digits, empty when the record has no trace context. */
  spanId: string
  /** W3C trace flags (the record's `flags` field, low byte). */
  traceFlags: number
  resource: Record<string, unknown>
  scope: { name: string, version: string }
}

/** OTLP span kinds: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
export interface ReceivedSpan {
  traceId: string
  spanId: string
  /** Empty string for a root span. */
  parentSpanId: string
  name: string
  kind: number
  startTimeUnixNano: string
  endTimeUnixNano: string
  attributes: Record<string, unknown>
  events: Array<{ name: string, attributes: Record<string, unknown> }>
  /** 0 unset, 1 ok, 2 error. */
  status: { code: number, message: string }
  resource: Record<string, unknown>
  scope: { name: string, version: string }
}

export interface ReceivedRequest {
  method: string
  path: string
  contentType: string
  bytes: number
  /** Spans decoded from this request (0 when refused or not decodable). */
  spans: number
  /** Metrics decoded from this request (metrics export requests only). */
  metrics?: number
  /** Log records decoded from this request (0 when refused or not decodable). */
  logs: number
}

export interface OtlpReceiverOptions {
  /** `accept` (default) answers 200; `refuse` answers 503; `hang` never answers. */
  mode?: 'accept' | 'refuse' | 'hang'
}

export interface OtlpReceiver {
  /** Base URL, e.g. http://127.0.0.1:43123 (POST /v1/traces). */
  url: string
  /** Full traces endpoint URL. */
  tracesUrl: string
  /** Full logs endpoint URL (POST /v1/logs over HTTP; the endpoint itself for gRPC). */
  logsUrl: string
  /** Decoded log records received so far. */
  logs (): ReceivedLog[]
  /** Resolves once at least `count` log records arrived; rejects after `timeoutMs`. */
  waitForLogs (count: number, timeoutMs?: number): Promise<ReceivedLog[]>
  /** Decoded spans received so far. */
  spans (): ReceivedSpan[]
  /** Every request received, in order. */
  requests: ReceivedRequest[]
  /** Resolves once at least `count` spans arrived; rejects after `timeoutMs`. */
  waitForSpans (count: number, timeoutMs?: number): Promise<ReceivedSpan[]>
  /**
   * Export requests received and not finished yet (`now`) and the most at once (`max`); a request
   * finishes when it is answered or the client gives up on it. With `hang`, `max` shows whether
   * an exporter abandons its timed-out requests or lets them pile up.
   */
  openRequests (): { now: number, max: number }
  /** Full metrics endpoint URL (POST /v1/metrics; the endpoint itself for gRPC). */
  metricsUrl: string
  /** Decoded metrics received so far, one entry per metric per export request, in order. */
  metrics (): ReceivedMetric[]
  /**
   * Resolves with the first (or, once many arrived, the latest) received metric for which `match`
   * returns true, waiting for new exports; rejects after `timeoutMs`.
   */
  waitForMetrics (match: (metric: ReceivedMetric) => boolean, timeoutMs?: number): Promise<ReceivedMetric>
  close (): Promise<void>
}

interface Collected {
  received: ReceivedSpan[]
  receivedLogs: ReceivedLog[]
  addLogs (logs: ReceivedLog[]): void
  waitForLogs: OtlpReceiver['waitForLogs']
  requests: ReceivedRequest[]
  /** Stores decoded spans and wakes the waiters. */
  add (spans: ReceivedSpan[]): void
  waitForSpans: OtlpReceiver['waitForSpans']
  /** Counts a request as open until `done` is called (once). */
  open (): () => void
  openRequests: OtlpReceiver['openRequests']
}

function waitFor<T> (items: T[], waiters: Set<() => void>, what: string) {
  return (count: number, timeoutMs = 10_000): Promise<T[]> => new Promise((resolve, reject) => {
    const check = (): void => {
      if (items.length < count) return
      waiters.delete(check)
      clearTimeout(timer)
      resolve([...items])
    }
    const timer = setTimeout(() => {
      waiters.delete(check)
      reject(new Error(`OTLP receiver: ${items.length} of ${count} ${what} after ${timeoutMs} ms`))
    }, timeoutMs)
    waiters.add(check)
    check()
  })
}

function collector (): Collected {
  const receivedLogs: ReceivedLog[] = []
  const logWaiters = new Set<() => void>()
  const received: ReceivedSpan[] = []
  const requests: ReceivedRequest[] = []
  const waiters = new Set<() => void>()
  let now = 0
  let max = 0
  return {
    received,
    receivedLogs,
    addLogs (logs) {
      receivedLogs.push(...logs)
      for (const wake of logWaiters) wake()
    },
    waitForLogs: waitFor(receivedLogs, logWaiters, 'log records'),
    requests,
    open () {
      now++
      max = Math.max(max, now)
      let done = false
      return () => {
        if (done) return
        done = true
        now--
      }
    },
    openRequests: () => ({ now, max }),
    add (spans) {
      received.push(...spans)
      for (const wake of waiters) wake()
    },
    waitForSpans (count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (received.length < count) return
          waiters.delete(check)
          clearTimeout(timer)
          resolve([...received])
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`OTLP receiver: ${received.length} of ${count} spans after ${timeoutMs} ms`))
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    }
  }
}

/** An OTLP/HTTP protobuf trace receiver on 127.0.0.1 (random port) that decodes what it gets. */
export async function startOtlpReceiver (options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const mode = options.mode ?? 'accept'
  const c = collector()
  const mc = metricsCollector()

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    res.on('close', c.open())
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      let body = Buffer.concat(chunks)
      const record: ReceivedRequest = {
        method: req.method ?? '',
        path: (req.url ?? '').split('?')[0] ?? '',
        contentType: String(req.headers['content-type'] ?? ''),
        bytes: body.length,
        spans: 0,
        logs: 0
      }
      c.requests.push(record)
      if (mode === 'hang') return
      if (mode === 'refuse') {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('refused by test receiver')
        return
      }
      if (record.method === 'POST' && record.path === OTLP_HTTP_METRICS_PATH) {
        answerHttpMetrics(req, res, body, record, mc)
        return
      }
      if (record.method !== 'POST' || (record.path !== '/v1/traces' && record.path !== '/v1/logs')) {
        res.writeHead(404).end()
        return
      }
      let spans: ReceivedSpan[] = []
      let logs: ReceivedLog[] = []
      try {
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body)
        if (record.path === '/v1/logs') logs = decodeLogs(body)
        else spans = decodeTraces(body)
      } catch (err) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`cannot decode: ${(err as Error).message}`)
        return
      }
      record.spans = spans.length
      record.logs = logs.length
      // An empty Export*ServiceResponse is zero bytes of protobuf.
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
      c.add(spans)
      c.addLogs(logs)
    })
  })
  return await listenReceiver(server, c, '/v1/traces', '/v1/logs', () => server.closeAllConnections(), mc)
}

/**
 * Listen on a random loopback port and wrap the collected data in the receiver handle both
 * receivers return. `dropConnections` cuts open connections so close() does not wait on them.
 */
async function listenReceiver (server: { listen: (port: number, host: string, cb: () => void) => unknown, address: () => unknown, close: (cb: () => void) => unknown }, c: Collected, tracesPath: string, logsPath: string, dropConnections: () => void, mc: MetricsCollected = metricsCollector()): Promise<OtlpReceiver> {
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  const { port } = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    tracesUrl: `${url}${tracesPath}`,
    metricsUrl: tracesPath === '' ? url : `${url}${OTLP_HTTP_METRICS_PATH}`,
    metrics: () => [...mc.received],
    waitForMetrics: mc.waitForMetrics,
    logsUrl: `${url}${logsPath}`,
    spans: () => [...c.received],
    logs: () => [...c.receivedLogs],
    waitForLogs: c.waitForLogs,
    requests: c.requests,
    waitForSpans: c.waitForSpans,
    openRequests: c.openRequests,
    close () {
      return new Promise<void>((resolve) => {
        server.close(() => resolve())
        dropConnections()
      })
    }
  }
}

/** The gRPC method an OTLP trace exporter calls (opentelemetry/proto collector/trace/v1). */
export const OTLP_GRPC_TRACE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export'

/** The gRPC method an OTLP log exporter calls (opentelemetry/proto collector/logs/v1). */
export const OTLP_GRPC_LOGS_EXPORT_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export'

/**
 * An OTLP/gRPC trace receiver on 127.0.0.1 (random port, plaintext HTTP/2): it speaks just enough
 * gRPC (length-prefixed messages, `grpc-status` trailers) to answer the TraceService/Export call
 * and decodes the ExportTraceServiceRequest. `url` is what OTEL_EXPORTER_OTLP_ENDPOINT takes
 * (`tracesUrl` is the same: gRPC has no per-signal path). `refuse` answers UNAVAILABLE (14).
 */
export async function startOtlpGrpcReceiver (options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const mode = options.mode ?? 'accept'
  const c = collector()
  const mc = metricsCollector()
  const sessions = new Set<ServerHttp2Session>()
  const server = createHttp2Server()
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session)
    session.on('close', () => sessions.delete(session))
    session.on('error', () => {})
  })
  const trailersOnly = (stream: ServerHttp2Stream, status: number, message: string): void => {
    stream.respond({
      [h2.HTTP2_HEADER_STATUS]: 200,
      [h2.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+proto',
      'grpc-status': String(status),
      'grpc-message': encodeURIComponent(message)
    }, { endStream: true })
  }
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on('close', c.open())
    stream.on('error', () => {})
    const chunks: Buffer[] = []
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('end', () => {
      const body = Buffer.concat(chunks)
      const record: ReceivedRequest = {
        method: String(headers[h2.HTTP2_HEADER_METHOD] ?? ''),
        path: String(headers[h2.HTTP2_HEADER_PATH] ?? ''),
        contentType: String(headers[h2.HTTP2_HEADER_CONTENT_TYPE] ?? ''),
        bytes: body.length,
        spans: 0,
        logs: 0
      }
      c.requests.push(record)
      if (mode === 'hang') return
      if (mode === 'refuse') {
        trailersOnly(stream, 14, 'refused by test receiver')
        return
      }
      if (record.path === OTLP_GRPC_METRICS_EXPORT_PATH) {
        answerGrpcMetrics(stream, body, String(headers['grpc-encoding'] ?? 'identity'), record, mc, trailersOnly)
        return
      }
      if (record.path !== OTLP_GRPC_TRACE_EXPORT_PATH && record.path !== OTLP_GRPC_LOGS_EXPORT_PATH) {
        trailersOnly(stream, 12, `unimplemented: ${record.path}`)
        return
      }
      let spans: ReceivedSpan[] = []
      let logs: ReceivedLog[] = []
      try {
        const messages = decodeGrpcMessages(body, String(headers['grpc-encoding'] ?? 'identity'))
        if (record.path === OTLP_GRPC_LOGS_EXPORT_PATH) logs = messages.flatMap((m) => decodeLogs(m))
        else spans = messages.flatMap((m) => decodeTraces(m))
      } catch (err) {
        trailersOnly(stream, 3, `cannot decode: ${(err as Error).message}`)
        return
      }
      record.spans = spans.length
      record.logs = logs.length
      stream.respond({ [h2.HTTP2_HEADER_STATUS]: 200, [h2.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+proto' }, { waitForTrailers: true })
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }))
      // One uncompressed, empty ExportTraceServiceResponse.
      stream.end(Buffer.alloc(5))
      c.add(spans)
      c.addLogs(logs)
    })
  })
  // gRPC has no per-signal path: tracesUrl is the endpoint itself.
  return await listenReceiver(server, c, '', '', () => { for (const session of sessions) session.destroy() }, mc)
}

/** Split a gRPC request body into its length-prefixed messages (gzip-compressed ones inflated). */
export function decodeGrpcMessages (body: Buffer, encoding = 'identity'): Buffer[] {
  const messages: Buffer[] = []
  let offset = 0
  while (offset < body.length) {
    if (body.length - offset < 5) throw new Error('truncated gRPC message prefix')
    const compressed = body[offset] === 1
    const length = body.readUInt32BE(offset + 1)
    const end = offset + 5 + length
    if (end > body.length) throw new Error('truncated gRPC message')
    const message = body.subarray(offset + 5, end)
    if (compressed && encoding !== 'gzip') throw new Error(`unsupported grpc-encoding ${encoding}`)
    messages.push(compressed ? gunzipSync(message) : message)
    offset = end
  }
  return messages
}

/** Decode an ExportTraceServiceRequest (protobuf bytes) into flat spans. */
export function decodeTraces (body: Uint8Array): ReceivedSpan[] {
  const type = exportTraceServiceRequest()
  const message = type.toObject(type.decode(body), { longs: String, bytes: Buffer, oneofs: true, arrays: true }) as any
  const out: ReceivedSpan[] = []
  for (const rs of message.resourceSpans ?? []) {
    const resource = toAttributes(rs.resource?.attributes)
    for (const ss of rs.scopeSpans ?? []) {
      const scope = { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '' }
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          name: s.name ?? '',
          kind: s.kind ?? 0,
          startTimeUnixNano: s.startTimeUnixNano ?? '0',
          endTimeUnixNano: s.endTimeUnixNano ?? '0',
          attributes: toAttributes(s.attributes),
          events: (s.events ?? []).map((e: any) => ({ name: e.name ?? '', attributes: toAttributes(e.attributes) })),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
          resource,
          scope
        })
      }
    }
  }
  return out
}

/** Decode an ExportLogsServiceRequest (protobuf bytes) into flat log records. */
export function decodeLogs (body: Uint8Array): ReceivedLog[] {
  const type = otlpType('ExportLogsServiceRequest')
  const message = type.toObject(type.decode(body), { longs: String, bytes: Buffer, oneofs: true, arrays: true }) as any
  const out: ReceivedLog[] = []
  for (const rl of message.resourceLogs ?? []) {
    const resource = toAttributes(rl.resource?.attributes)
    for (const sl of rl.scopeLogs ?? []) {
      const scope = { name: sl.scope?.name ?? '', version: sl.scope?.version ?? '' }
      for (const r of sl.logRecords ?? []) {
        out.push({
          timeUnixNano: r.timeUnixNano ?? '0',
          observedTimeUnixNano: r.observedTimeUnixNano ?? '0',
          severityNumber: r.severityNumber ?? 0,
          severityText: r.severityText ?? '',
          body: r.body === undefined ? undefined : anyValue(r.body),
          attributes: toAttributes(r.attributes),
          traceId: hex(r.traceId),
          spanId: hex(r.spanId),
          traceFlags: (r.flags ?? 0) & 0xff,
          resource,
          scope
        })
      }
    }
  }
  return out
}

function hex (bytes: Buffer | undefined): string {
  return bytes === undefined ? '' : Buffer.from(bytes).toString('hex')
}

function toAttributes (list: any[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const kv of list ?? []) out[kv.key] = anyValue(kv.value)
  return out
}

function anyValue (v: any): unknown {
  const which: string | undefined = v?.value
  if (which === undefined) return undefined
  const raw = v[which]
  switch (which) {
    case 'intValue': return Number(raw)
    case 'arrayValue': return (raw?.values ?? []).map(anyValue)
    case 'kvlistValue': return toAttributes(raw?.values)
    case 'bytesValue': return Buffer.from(raw).toString('hex')
    default: return raw
  }
}

// --- metrics (ExportMetricsServiceRequest) --------------------------------------------------------

/** The part of the OTLP metrics schema (metrics/v1) a receiver needs; added to the trace schema's root. */
const OTLP_METRICS_PROTO = `
syntax = "proto3";
package otlp;
message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; string schema_url = 3; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; string schema_url = 3; }
message Metric {
  string name = 1;
  string description = 2;
  string unit = 3;
  oneof data { Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; }
}
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message Exemplar {
  repeated KeyValue filtered_attributes = 7;
  fixed64 time_unix_nano = 2;
  oneof value { double as_double = 3; sfixed64 as_int = 6; }
  bytes span_id = 4;
  bytes trace_id = 5;
}
message NumberDataPoint {
  repeated KeyValue attributes = 7;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  oneof value { double as_double = 4; sfixed64 as_int = 6; }
  repeated Exemplar exemplars = 5;
  uint32 flags = 8;
}
message HistogramDataPoint {
  repeated KeyValue attributes = 9;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  fixed64 count = 4;
  optional double sum = 5;
  repeated fixed64 bucket_counts = 6;
  repeated double explicit_bounds = 7;
  repeated Exemplar exemplars = 8;
  uint32 flags = 10;
  optional double min = 11;
  optional double max = 12;
}
`

/** Path of OTLP/HTTP metrics exports. */
export const OTLP_HTTP_METRICS_PATH = '/v1/metrics'
/** The gRPC method an OTLP metrics exporter calls (opentelemetry/proto collector/metrics/v1). */
export const OTLP_GRPC_METRICS_EXPORT_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export'

export interface ReceivedDataPoint {
  attributes: Record<string, unknown>
  startTimeUnixNano: string
  timeUnixNano: string
  /** Sum and gauge points. */
  value?: number
  /** Histogram points. */
  count?: number
  sum?: number
  bucketCounts?: number[]
  explicitBounds?: number[]
  exemplars: Array<{ traceId: string, spanId: string, value: number }>
}

export interface ReceivedMetric {
  name: string
  description: string
  unit: string
  type: 'sum' | 'gauge' | 'histogram' | 'other'
  /** Sums only. */
  isMonotonic?: boolean
  /** 1 delta, 2 cumulative (sums and histograms). */
  temporality?: number
  points: ReceivedDataPoint[]
  resource: Record<string, unknown>
  scope: { name: string, version: string }
  /** Index of the export request this metric came in (0-based, per receiver). */
  batch: number
}

let metricsRequestType: protobuf.Type | undefined
function exportMetricsServiceRequest (): protobuf.Type {
  if (metricsRequestType === undefined) {
    const root = exportTraceServiceRequest().root
    protobuf.parse(OTLP_METRICS_PROTO, root, { keepCase: false })
    metricsRequestType = root.lookupType('otlp.ExportMetricsServiceRequest')
  }
  return metricsRequestType
}

/** Decode an ExportMetricsServiceRequest (protobuf bytes) into flat metrics. */
export function decodeMetrics (body: Uint8Array, batch = 0): ReceivedMetric[] {
  const type = exportMetricsServiceRequest()
  const message = type.toObject(type.decode(body), { longs: String, bytes: Buffer, oneofs: true, arrays: true }) as any
  const out: ReceivedMetric[] = []
  const num = (p: any): number | undefined => p.asDouble !== undefined ? Number(p.asDouble) : p.asInt !== undefined ? Number(p.asInt) : undefined
  const exemplars = (list: any[] | undefined): ReceivedDataPoint['exemplars'] =>
    (list ?? []).map((e: any) => ({ traceId: hex(e.traceId), spanId: hex(e.spanId), value: num(e) ?? 0 }))
  for (const rm of message.resourceMetrics ?? []) {
    const resource = toAttributes(rm.resource?.attributes)
    for (const sm of rm.scopeMetrics ?? []) {
      const scope = { name: sm.scope?.name ?? '', version: sm.scope?.version ?? '' }
      for (const m of sm.metrics ?? []) {
        const base = { name: m.name ?? '', description: m.description ?? '', unit: m.unit ?? '', resource, scope, batch }
        const numberPoint = (p: any): ReceivedDataPoint => {
          const value = num(p)
          return { attributes: toAttributes(p.attributes), startTimeUnixNano: p.startTimeUnixNano ?? '0', timeUnixNano: p.timeUnixNano ?? '0', ...(value !== undefined ? { value } : {}), exemplars: exemplars(p.exemplars) }
        }
        if (m.data === 'sum') {
          out.push({ ...base, type: 'sum', isMonotonic: m.sum.isMonotonic === true, temporality: m.sum.aggregationTemporality ?? 0, points: (m.sum.dataPoints ?? []).map(numberPoint) })
        } else if (m.data === 'gauge') {
          out.push({ ...base, type: 'gauge', points: (m.gauge.dataPoints ?? []).map(numberPoint) })
        } else if (m.data === 'histogram') {
          out.push({
            ...base,
            type: 'histogram',
            temporality: m.histogram.aggregationTemporality ?? 0,
            points: (m.histogram.dataPoints ?? []).map((p: any) => ({
              attributes: toAttributes(p.attributes),
              startTimeUnixNano: p.startTimeUnixNano ?? '0',
              timeUnixNano: p.timeUnixNano ?? '0',
              count: Number(p.count ?? 0),
              ...(p.sum !== undefined && p.sum !== null ? { sum: Number(p.sum) } : {}),
              bucketCounts: (p.bucketCounts ?? []).map(Number),
              explicitBounds: (p.explicitBounds ?? []).map(Number),
              exemplars: exemplars(p.exemplars)
            }))
          })
        } else {
          out.push({ ...base, type: 'other', points: [] })
        }
      }
    }
  }
  return out
}

interface MetricsCollected {
  received: ReceivedMetric[]
  batches: number
  add (metrics: ReceivedMetric[]): void
  waitForMetrics: OtlpReceiver['waitForMetrics']
}

function metricsCollector (): MetricsCollected {
  const received: ReceivedMetric[] = []
  const waiters = new Set<() => void>()
  const mc: MetricsCollected = {
    received,
    batches: 0,
    add (metrics) {
      mc.batches++
      received.push(...metrics)
      for (const wake of waiters) wake()
    },
    waitForMetrics (match, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          let found: ReceivedMetric | undefined
          for (let i = received.length - 1; i >= 0; i--) {
            if (match(received[i] as ReceivedMetric)) {
              found = received[i]
              break
            }
          }
          if (found === undefined) return
          waiters.delete(check)
          clearTimeout(timer)
          resolve(found)
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`OTLP receiver: no matching metric after ${timeoutMs} ms (${mc.batches} metrics exports, ${received.length} metrics received)`))
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    }
  }
  return mc
}

function answerHttpMetrics (req: IncomingMessage, res: ServerResponse, raw: Buffer, record: ReceivedRequest, mc: MetricsCollected): void {
  let metrics: ReceivedMetric[]
  try {
    const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw
    metrics = decodeMetrics(body, mc.batches)
  } catch (err) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end(`cannot decode: ${(err as Error).message}`)
    return
  }
  record.metrics = metrics.length
  // An empty ExportMetricsServiceResponse is zero bytes of protobuf.
  res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
  mc.add(metrics)
}

function answerGrpcMetrics (stream: ServerHttp2Stream, body: Buffer, encoding: string, record: ReceivedRequest, mc: MetricsCollected, trailersOnly: (stream: ServerHttp2Stream, status: number, message: string) => void): void {
  let metrics: ReceivedMetric[]
  try {
    metrics = decodeGrpcMessages(body, encoding).flatMap((m) => decodeMetrics(m, mc.batches))
  } catch (err) {
    trailersOnly(stream, 3, `cannot decode: ${(err as Error).message}`)
    return
  }
  record.metrics = metrics.length
  stream.respond({ [h2.HTTP2_HEADER_STATUS]: 200, [h2.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+proto' }, { waitForTrailers: true })
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }))
  stream.end(Buffer.alloc(5))
  mc.add(metrics)
}
