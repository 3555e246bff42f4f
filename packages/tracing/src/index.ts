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

// `import o11yTracing from '@o11y/tracing'` in an ES module receives module.exports (Node does not
// honour __esModule), so module.exports is the plugin itself, carrying the named exports, as
// Fastify's own CommonJS plugins do. Named imports and require() keep working unchanged.
module.exports = Object.assign(o11yTracing, module.exports)
