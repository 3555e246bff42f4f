import {
  context, createTraceState, isSpanContextValid, propagation, trace, TraceFlags,
  type Context, type TextMapGetter, type TextMapPropagator, type TextMapSetter
} from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace'

export interface MemoryTracing {
  exporter: InMemorySpanExporter
  provider: TracerProvider
  /** Spans that have ended so far, in the order they ended. */
  spans (): ReadableSpan[]
  /** Forget the spans collected so far. */
  reset (): void
  /** Unregister everything so the next test can register again. */
  shutdown (): Promise<void>
}

/**
 * Collect spans in memory: an InMemorySpanExporter behind a SimpleSpanProcessor, registered as the
 * global tracer provider with an AsyncLocalStorage context manager and a W3C trace-context
 * propagator, so instrumented code under test (plugins, helpers) records into it.
 * Throws when another provider is registered (shut the previous one down first).
 */
export function createMemoryTracing (): MemoryTracing {
  const exporter = new InMemorySpanExporter()
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] })
  if (!trace.setGlobalTracerProvider(provider)) {
    throw new Error('createMemoryTracing: a global tracer provider is already registered; shut it down first')
  }
  const contextManager = new AsyncLocalStorageContextManager().enable()
  context.setGlobalContextManager(contextManager)
  propagation.setGlobalPropagator(new TraceContextPropagator())
  let stopped = false
  return {
    exporter,
    provider,
    spans: () => exporter.getFinishedSpans(),
    reset: () => exporter.reset(),
    async shutdown () {
      if (stopped) return
      stopped = true
      await provider.shutdown()
      trace.disable()
      context.disable()
      propagation.disable()
    }
  }
}

const TRACEPARENT = 'traceparent'
const TRACESTATE = 'tracestate'
const TRACEPARENT_RE = /^([\da-f]{2})-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})(-.*)?$/

/** W3C Trace Context (traceparent + tracestate), enough for tests; no baggage. */
export class TraceContextPropagator implements TextMapPropagator {
  inject (ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(ctx)
    if (spanContext === undefined || !isSpanContextValid(spanContext)) return
    const flags = (spanContext.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, '0')
    setter.set(carrier, TRACEPARENT, `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`)
    const state = spanContext.traceState?.serialize()
    if (state !== undefined && state !== '') setter.set(carrier, TRACESTATE, state)
  }

  extract (ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const header = first(getter.get(carrier, TRACEPARENT))
    const match = header === undefined ? null : TRACEPARENT_RE.exec(header.trim())
    if (match === null) return ctx
    const [, version, traceId, spanId, flags, rest] = match
    if (version === 'ff' || (version === '00' && rest !== undefined)) return ctx
    const spanContext = {
      traceId: traceId!,
      spanId: spanId!,
      traceFlags: parseInt(flags!, 16) & TraceFlags.SAMPLED,
      isRemote: true,
      ...(() => {
        const state = first(getter.get(carrier, TRACESTATE))
        return state === undefined ? {} : { traceState: createTraceState(state) }
      })()
    }
    if (!isSpanContextValid(spanContext)) return ctx
    return trace.setSpanContext(ctx, spanContext)
  }

  fields (): string[] {
    return [TRACEPARENT, TRACESTATE]
  }
}

function first (value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value
}
