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
`

let requestType: protobuf.Type | undefined
function exportTraceServiceRequest (): protobuf.Type {
  requestType ??= protobuf.parse(OTLP_TRACE_PROTO, { keepCase: false }).root.lookupType('otlp.ExportTraceServiceRequest')
  return requestType
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
  close (): Promise<void>
}

interface Collected {
  received: ReceivedSpan[]
  requests: ReceivedRequest[]
  /** Stores decoded spans and wakes the waiters. */
  add (spans: ReceivedSpan[]): void
  waitForSpans: OtlpReceiver['waitForSpans']
  /** Counts a request as open until `done` is called (once). */
  open (): () => void
  openRequests: OtlpReceiver['openRequests']
}

function collector (): Collected {
  const received: ReceivedSpan[] = []
  const requests: ReceivedRequest[] = []
  const waiters = new Set<() => void>()
  let now = 0
  let max = 0
  return {
    received,
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
        spans: 0
      }
      c.requests.push(record)
      if (mode === 'hang') return
      if (mode === 'refuse') {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('refused by test receiver')
        return
      }
      if (record.method !== 'POST' || record.path !== '/v1/traces') {
        res.writeHead(404).end()
        return
      }
      let spans: ReceivedSpan[]
      try {
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body)
        spans = decodeTraces(body)
      } catch (err) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`cannot decode: ${(err as Error).message}`)
        return
      }
      record.spans = spans.length
      // An empty ExportTraceServiceResponse is zero bytes of protobuf.
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
      c.add(spans)
    })
  })
  return await listenReceiver(server, c, '/v1/traces', () => server.closeAllConnections())
}

/**
 * Listen on a random loopback port and wrap the collected data in the receiver handle both
 * receivers return. `dropConnections` cuts open connections so close() does not wait on them.
 */
async function listenReceiver (server: { listen: (port: number, host: string, cb: () => void) => unknown, address: () => unknown, close: (cb: () => void) => unknown }, c: Collected, tracesPath: string, dropConnections: () => void): Promise<OtlpReceiver> {
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  const { port } = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    tracesUrl: `${url}${tracesPath}`,
    spans: () => [...c.received],
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

/**
 * An OTLP/gRPC trace receiver on 127.0.0.1 (random port, plaintext HTTP/2): it speaks just enough
 * gRPC (length-prefixed messages, `grpc-status` trailers) to answer the TraceService/Export call
 * and decodes the ExportTraceServiceRequest. `url` is what OTEL_EXPORTER_OTLP_ENDPOINT takes
 * (`tracesUrl` is the same: gRPC has no per-signal path). `refuse` answers UNAVAILABLE (14).
 */
export async function startOtlpGrpcReceiver (options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const mode = options.mode ?? 'accept'
  const c = collector()
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
        spans: 0
      }
      c.requests.push(record)
      if (mode === 'hang') return
      if (mode === 'refuse') {
        trailersOnly(stream, 14, 'refused by test receiver')
        return
      }
      if (record.path !== OTLP_GRPC_TRACE_EXPORT_PATH) {
        trailersOnly(stream, 12, `unimplemented: ${record.path}`)
        return
      }
      let spans: ReceivedSpan[]
      try {
        spans = decodeGrpcMessages(body, String(headers['grpc-encoding'] ?? 'identity')).flatMap((m) => decodeTraces(m))
      } catch (err) {
        trailersOnly(stream, 3, `cannot decode: ${(err as Error).message}`)
        return
      }
      record.spans = spans.length
      stream.respond({ [h2.HTTP2_HEADER_STATUS]: 200, [h2.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+proto' }, { waitForTrailers: true })
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }))
      // One uncompressed, empty ExportTraceServiceResponse.
      stream.end(Buffer.alloc(5))
      c.add(spans)
    })
  })
  // gRPC has no per-signal path: tracesUrl is the endpoint itself.
  return await listenReceiver(server, c, '', () => { for (const session of sessions) session.destroy() })
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
