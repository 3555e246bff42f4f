import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
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
  close (): Promise<void>
}

/** An OTLP/HTTP protobuf trace receiver on 127.0.0.1 (random port) that decodes what it gets. */
export async function startOtlpReceiver (options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const mode = options.mode ?? 'accept'
  const received: ReceivedSpan[] = []
  const requests: ReceivedRequest[] = []
  const waiters = new Set<() => void>()

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
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
      requests.push(record)
      if (mode === 'hang') return
      if (mode === 'refuse') {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('refused by test receiver')
        return
      }
      if (record.method !== 'POST' || record.path !== '/v1/traces') {
        res.writeHead(404).end()
        return
      }
      try {
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body)
        const spans = decodeTraces(body)
        record.spans = spans.length
        received.push(...spans)
      } catch (err) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`cannot decode: ${(err as Error).message}`)
        return
      }
      // An empty ExportTraceServiceResponse is zero bytes of protobuf.
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
      for (const wake of waiters) wake()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`

  return {
    url,
    tracesUrl: `${url}/v1/traces`,
    spans: () => [...received],
    requests,
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
    },
    close () {
      return new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
    }
  }
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
