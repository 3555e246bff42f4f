import { context, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api'
import { currentTracer } from './plugin'
import { TRACER_NAME } from './constants'

/** A tracer from the global provider; a no-op tracer when tracing is off. */
export function getTracer (name: string = TRACER_NAME, version?: string): Tracer {
  return name === TRACER_NAME && version === undefined ? currentTracer() : trace.getTracer(name, version)
}

/**
 * Run `fn` inside a new active span named `name`. Works with sync and async functions; when fn
 * throws or rejects, the exception is recorded and the span status is ERROR; the span always ends.
 */
export function withSpan<T> (name: string, fn: (span: Span) => T, attributes?: Attributes): T {
  const span = currentTracer().startSpan(name, attributes === undefined ? undefined : { attributes })
  return context.with(trace.setSpan(context.active(), span), () => {
    let result: T
    try {
      result = fn(span)
    } catch (err) {
      fail(span, err)
      span.end()
      throw err
    }
    if (isThenable(result)) {
      return result.then((value) => {
        span.end()
        return value
      }, (err: unknown) => {
        fail(span, err)
        span.end()
        throw err
      }) as T
    }
    span.end()
    return result
  })
}

/** Set attributes on the active span (no-op without one). */
export function addSpanAttributes (attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes)
}

/** Add an event to the active span (no-op without one). */
export function addSpanEvent (name: string, attributes?: Attributes): void {
  trace.getActiveSpan()?.addEvent(name, attributes)
}

function fail (span: Span, err: unknown): void {
  if (err instanceof Error) {
    span.recordException(err)
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message })
  } else {
    span.recordException(String(err))
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) })
  }
}

function isThenable (value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}
