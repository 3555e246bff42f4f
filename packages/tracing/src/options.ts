import { EXPORTERS, PROTOCOLS, SAMPLERS } from './constants'
import { invalidOption } from './errors'
import { isHttpUrl } from './env'
import type { O11yTracingOptions } from './plugin'
import type { StartTracingOptions } from './sdk'

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function positiveInt (options: Record<string, unknown>, name: string): void {
  const v = options[name]
  if (v !== undefined && !(Number.isInteger(v) && (v as number) > 0)) throw invalidOption(name, 'a positive integer', v)
}

function bool (options: Record<string, unknown>, name: string): void {
  const v = options[name]
  if (v !== undefined && typeof v !== 'boolean') throw invalidOption(name, 'a boolean', v)
}

/** Checks `startTracing` options once; throws O11Y_ERR_TRACING_INVALID_OPTION naming the option. */
export function validateStartOptions (options: StartTracingOptions): void {
  if (!isObject(options)) throw invalidOption('options', 'an object', options)
  const o = options as Record<string, unknown>
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
    if (!isObject(o.instrumentations)) throw invalidOption('instrumentations', 'an object like { http, undici, pg }', o.instrumentations)
    for (const [key, v] of Object.entries(o.instrumentations)) {
      if (!['http', 'undici', 'pg'].includes(key)) throw invalidOption(`instrumentations.${key}`, 'one of http, undici, pg', key)
      if (typeof v !== 'boolean') throw invalidOption(`instrumentations.${key}`, 'a boolean', v)
    }
  }
  for (const name of ['pgParameterValues', 'requireParentSpan', 'disabled']) bool(o, name)
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
}
