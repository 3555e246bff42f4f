import { o11yTracing } from './plugin'

export { o11yTracing }
export default o11yTracing
export type { ExportStats, InstrumentationOptions, O11yTracingOptions, StartTracingOptions, TracingHandle } from './types'
export { startTracing } from './sdk'
export { getActiveTracing } from './active'
export { getTracer, withSpan, addSpanAttributes, addSpanEvent } from './span'
export { TracingError } from './errors'
export type { WarningLogger } from './errors'
export { ATTR, DEFAULTS, DEFAULT_IGNORE_ROUTES, ENV, ERROR_CODES, PLUGIN_NAME, TRACER_NAME } from './constants'
