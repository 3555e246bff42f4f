import { o11yTracing } from './plugin'

export { o11yTracing }
export default o11yTracing
export type { O11yTracingOptions } from './plugin'
export { startTracing, getActiveTracing } from './sdk'
export type { StartTracingOptions, TracingHandle } from './sdk'
export { getTracer, withSpan, addSpanAttributes, addSpanEvent } from './helpers'
export type { ExportStats } from './processor'
export { TracingError } from './errors'
export type { WarningLogger } from './errors'
export { ATTR, DEFAULTS, DEFAULT_IGNORE_ROUTES, ENV, ERROR_CODES, PLUGIN_NAME, TRACER_NAME } from './constants'
