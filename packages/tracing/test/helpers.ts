import { SpanKind } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace'

export function byName (spans: ReadableSpan[], name: string): ReadableSpan {
  const span = spans.find((s) => s.name === name)
  if (span === undefined) throw new Error(`no span named ${JSON.stringify(name)} in [${spans.map((s) => s.name).join(', ')}]`)
  return span
}

export function parentId (span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId
}

export function servers (spans: ReadableSpan[]): ReadableSpan[] {
  return spans.filter((s) => s.kind === SpanKind.SERVER)
}
