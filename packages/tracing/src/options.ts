import { EXPORTERS, PROTOCOLS, SAMPLERS, SERVER_SPAN_ATTRIBUTE_GROUPS } from './constants'
import { invalidOption, unknownOption } from './errors'
import { isHttpUrl } from './env'
import type { O11yTracingOptions, StartTracingOptions } from './types'

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function positiveInt (options: Record<string, unknown>, name: string): void {
  const v = options[name]
  if (v !== undefined && !(Number.isInteger(v) && (v as number) > 0)) throw invalidOption(name, 'a positive integer', v)
}

function bool (options: Record<string, unknown>, name: string): void {
  const v = options[name]
  if (v !== undefined && typeof v !== 'boolean') throw invalidOption(name, 'a boolean', v)
}

const PLUGIN_OPTION_KEYS = ['ignoreRoutes', 'lifecycleSpans', 'hookSpans', 'trustIncomingContext', 'requestHook', 'responseHook', 'serverSpanAttributes']
const START_OPTION_KEYS = [
  'serviceName', 'serviceVersion', 'resourceAttributes', 'exporter', 'protocol', 'endpoint', 'sampler', 'samplerRatio',
  'spanProcessors', 'maxQueueSize', 'maxExportBatchSize', 'scheduledDelayMillis', 'exportTimeoutMillis', 'shutdownTimeoutMillis',
  'attributeValueLengthLimit', 'instrumentations', 'pgParameterValues', 'requireParentSpan', 'fastify', 'captureQuery',
  'dbErrorDetail', 'disabled', 'logger', 'env'
]

/** Checks `startTracing` options once; throws O11Y_ERR_TRACING_INVALID_OPTION naming the option. */
export function validateStartOptions (options: StartTracingOptions): void {
  if (!isObject(options)) throw invalidOption('options', 'an object', options)
  const o = options as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (!START_OPTION_KEYS.includes(key)) throw unknownOption(key, START_OPTION_KEYS)
  }
  for (const name of ['serviceName', 'serviceVersion']) {
    const v = o[name]
    if (v !== undefined && (typeof v !== 'string' || v === '')) throw invalidOption(name, 'a non-empty string', v)
  }
  if (o.resourceAttributes !== undefined && !isObject(o.resourceAttributes)) throw invalidOption('resourceAttributes', 'an object', o.resourceAttributes)
  const exporter = o.exporter
  if (exporter !== undefined && !(typeof exporter === 'string' ? (EXPORTERS as readonly string[]).includes(exporter) : isObject(exporter) && typeof exporter.export === 'function' && typeof exporter.shutdown === 'function')) {
    throw invalidOption('exporter', `one of ${EXPORTERS.join(', ')} or a SpanExporter`, exporter)
  }
  if (o.protocol !== undefined && !(PROTOCOLS as readonly unknown[]).includes(o.protocol)) throw invalidOption('protocol', PROTOCOLS.join(' or '), o.protocol)
  if (o.endpoint !== undefined && !(typeof o.endpoint === 'string' && isHttpUrl(o.endpoint))) throw invalidOption('endpoint', 'an http:// or https:// URL', o.endpoint)
  const sampler = o.sampler
  if (sampler !== undefined && !(typeof sampler === 'string' ? (SAMPLERS as readonly string[]).includes(sampler) : isObject(sampler) && typeof sampler.shouldSample === 'function')) {
    throw invalidOption('sampler', `one of ${SAMPLERS.join(', ')} or a Sampler`, sampler)
  }
  const ratio = o.samplerRatio
  if (ratio !== undefined && !(typeof ratio === 'number' && ratio >= 0 && ratio <= 1)) throw invalidOption('samplerRatio', 'a number from 0 to 1', ratio)
  if (o.spanProcessors !== undefined && !(Array.isArray(o.spanProcessors) && o.spanProcessors.every((p) => isObject(p) && typeof p.onEnd === 'function'))) {
    throw invalidOption('spanProcessors', 'an array of SpanProcessors', o.spanProcessors)
  }
  for (const name of ['maxQueueSize', 'maxExportBatchSize', 'scheduledDelayMillis', 'exportTimeoutMillis', 'shutdownTimeoutMillis', 'attributeValueLengthLimit']) positiveInt(o, name)
  if (o.maxQueueSize !== undefined && o.maxExportBatchSize !== undefined && (o.maxExportBatchSize as number) > (o.maxQueueSize as number)) {
    throw invalidOption('maxExportBatchSize', 'at most maxQueueSize', o.maxExportBatchSize)
  }
  if (o.instrumentations !== undefined) {
    const given = o.instrumentations
    const isInstrumentation = (i: unknown): boolean => isObject(i) && typeof i.enable === 'function' && typeof i.disable === 'function' && typeof i.setTracerProvider === 'function'
    if (Array.isArray(given)) {
      given.forEach((i, n) => { if (!isInstrumentation(i)) throw invalidOption(`instrumentations[${n}]`, 'an OpenTelemetry Instrumentation', i) })
    } else {
      if (!isObject(given)) throw invalidOption('instrumentations', 'an object like { http, undici, pg, extra } or an array of Instrumentations', given)
      for (const [key, v] of Object.entries(given)) {
        if (key === 'extra') {
          if (!Array.isArray(v)) throw invalidOption('instrumentations.extra', 'an array of Instrumentations', v)
          v.forEach((i, n) => { if (!isInstrumentation(i)) throw invalidOption(`instrumentations.extra[${n}]`, 'an OpenTelemetry Instrumentation', i) })
          continue
        }
        if (!['http', 'undici', 'pg'].includes(key)) throw invalidOption(`instrumentations.${key}`, 'one of http, undici, pg, extra', key)
        if (typeof v !== 'boolean') throw invalidOption(`instrumentations.${key}`, 'a boolean', v)
      }
    }
  }
  for (const name of ['pgParameterValues', 'requireParentSpan', 'disabled', 'captureQuery', 'dbErrorDetail']) bool(o, name)
  if (o.fastify !== undefined && typeof o.fastify !== 'boolean') validatePluginOptions(o.fastify as O11yTracingOptions, 'fastify.')
  if (o.logger !== undefined && !(isObject(o.logger) && typeof o.logger.warn === 'function')) throw invalidOption('logger', 'an object with a warn(message, code) method', o.logger)
  if (o.env !== undefined && !isObject(o.env)) throw invalidOption('env', 'an object', o.env)
}

/** Checks the Fastify plugin options once, at registration. */
export function validatePluginOptions (options: O11yTracingOptions, prefix = ''): void {
  if (!isObject(options)) throw invalidOption(prefix === '' ? 'options' : prefix.slice(0, -1), 'an object', options)
  const o = options as Record<string, unknown>
  const ignore = o.ignoreRoutes
  if (ignore !== undefined && typeof ignore !== 'function' && !(Array.isArray(ignore) && ignore.every((r) => typeof r === 'string'))) {
    throw invalidOption(`${prefix}ignoreRoutes`, 'an array of route templates or a function (route, method) => boolean', ignore)
  }
  for (const name of ['lifecycleSpans', 'hookSpans']) {
    const v = o[name]
    if (v !== undefined && typeof v !== 'boolean') throw invalidOption(`${prefix}${name}`, 'a boolean', v)
  }
  const trust = o.trustIncomingContext
  if (trust !== undefined && typeof trust !== 'boolean' && typeof trust !== 'function') {
    throw invalidOption(`${prefix}trustIncomingContext`, 'a boolean or a function (request) => boolean', trust)
  }
  for (const name of ['requestHook', 'responseHook']) {
    const v = o[name]
    if (v !== undefined && typeof v !== 'function') throw invalidOption(`${prefix}${name}`, 'a function', v)
  }
  const groups = o.serverSpanAttributes
  if (groups !== undefined) {
    const known = SERVER_SPAN_ATTRIBUTE_GROUPS as readonly unknown[]
    if (!Array.isArray(groups)) throw invalidOption(`${prefix}serverSpanAttributes`, `an array of ${SERVER_SPAN_ATTRIBUTE_GROUPS.join(', ')}`, groups)
    groups.forEach((g: unknown, n) => {
      if (!known.includes(g)) throw invalidOption(`${prefix}serverSpanAttributes[${n}]`, `one of ${SERVER_SPAN_ATTRIBUTE_GROUPS.join(', ')}`, g)
    })
  }
  for (const key of Object.keys(o)) {
    if (!PLUGIN_OPTION_KEYS.includes(key)) throw unknownOption(`${prefix}${key}`, PLUGIN_OPTION_KEYS)
  }
}
