import { o11yTracing } from './plugin'

export { o11yTracing }
export default o11yTracing
export type { ExportStats, InstrumentationOptions, O11yTracingOptions, StartTracingOptions, TracingHandle } from './types'
export { startTracing } from './sdk'
export { getActiveTracing } from './active'
export { getTracer, withSpan, addSpanAttributes, addSpanEvent } from './span'
export { TracingError, ERROR_CODES, ERROR_MESSAGES } from './errors'
export type { WarningLogger } from './errors'
export { ATTR, DEFAULTS, DEFAULT_IGNORE_ROUTES, ENV, PLUGIN_NAME, TRACER_NAME } from './constants'

// The `@fastify/*` export shape: `require('@o11y/tracing')` is the plugin itself, so
// `app.register(require('@o11y/tracing'))` works, with `.default`, `.o11yTracing` (both set by
// fastify-plugin) and every other export above as properties (copied from `exports`, so the
// list is written once). The types above describe the same object; dist/index.mjs
// (scripts/esm-wrapper.cjs) gives ESM importers the plugin as default export.
module.exports = Object.assign(o11yTracing, exports)
