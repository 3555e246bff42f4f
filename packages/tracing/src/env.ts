import {
  DEFAULTS, ENV, EXPORTERS, LOG_LEVELS, PROPAGATORS, PROTOCOLS, RESOURCE_DETECTORS, SAMPLERS,
  type ExporterName, type LogLevelName, type PropagatorName, type Protocol, type ResourceDetectorName, type SamplerName
} from './constants'
import { ERROR_CODES, type WarningLogger } from './errors'

/** What the standard OTEL_* variables ask for, after validation (bad values already replaced by defaults). */
export interface EnvConfig {
  disabled: boolean
  serviceName?: string
  resourceAttributes: Record<string, string>
  exporters: ExporterName[]
  protocol: Protocol
  /** Full URL of the traces endpoint, when the environment sets one. */
  endpoint?: string
  /** OTEL_EXPORTER_OTLP_ENDPOINT as given, when `endpoint` came from it (the path depends on the protocol). */
  baseEndpoint?: string
  sampler: SamplerName
  samplerRatio: number
  propagators: readonly PropagatorName[]
  resourceDetectors: readonly ResourceDetectorName[]
  /** OTEL_BSP_* and attribute limits, only when set (and valid). */
  scheduledDelayMillis?: number
  exportTimeoutMillis?: number
  maxQueueSize?: number
  maxExportBatchSize?: number
  attributeValueLengthLimit?: number
  /** The OTEL_*_COUNT_LIMIT variables of the SDK specification, only those set (and valid). */
  spanLimits?: SpanCountLimits
  /** OTEL_LOG_LEVEL, lower-cased, when set (and valid). */
  logLevel?: LogLevelName
}

export interface SpanCountLimits {
  attributeCountLimit?: number
  eventCountLimit?: number
  linkCountLimit?: number
  attributePerEventCountLimit?: number
  attributePerLinkCountLimit?: number
}

type Env = Record<string, string | undefined>

/**
 * Read and validate the OTEL_* variables. A bad value produces exactly one warning naming the
 * variable and the default used instead; nothing here throws, so the application always starts.
 */
export function readEnv (env: Env, logger: WarningLogger): EnvConfig {
  const bad = (name: string, value: string, fallback: string, expected: string): void => {
    logger.warn(`${name}=${JSON.stringify(value)} is not valid (expected ${expected}); using ${fallback}`, ERROR_CODES.INVALID_ENV)
  }
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim()
    return value === undefined || value === '' ? undefined : value
  }

  let disabled = false
  const disabledRaw = get(ENV.SDK_DISABLED)
  if (disabledRaw !== undefined) {
    const lower = disabledRaw.toLowerCase()
    if (lower === 'true') disabled = true
    else if (lower !== 'false') bad(ENV.SDK_DISABLED, disabledRaw, 'false', 'true or false')
  }

  let resourceAttributes: Record<string, string> = {}
  const resourceRaw = get(ENV.RESOURCE_ATTRIBUTES)
  if (resourceRaw !== undefined) {
    const parsed = parseResourceAttributes(resourceRaw)
    if (parsed === null) bad(ENV.RESOURCE_ATTRIBUTES, resourceRaw, 'no extra attributes', 'key1=value1,key2=value2 with percent-encoded values')
    else resourceAttributes = parsed
  }

  let exporters: ExporterName[] = [DEFAULTS.exporter]
  const exporterRaw = get(ENV.TRACES_EXPORTER)
  if (exporterRaw !== undefined) {
    const names = exporterRaw.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '')
    const valid = names.length > 0 && names.every((n) => (EXPORTERS as readonly string[]).includes(n)) &&
      (!names.includes('none') || names.length === 1)
    if (valid) exporters = [...new Set(names)] as ExporterName[]
    else bad(ENV.TRACES_EXPORTER, exporterRaw, DEFAULTS.exporter, `one of ${EXPORTERS.join(', ')} (otlp and console may be combined)`)
  }

  let protocol: Protocol = DEFAULTS.protocol
  const protocolName = get(ENV.TRACES_PROTOCOL) !== undefined ? ENV.TRACES_PROTOCOL : ENV.PROTOCOL
  const protocolRaw = get(protocolName)
  if (protocolRaw !== undefined) {
    if ((PROTOCOLS as readonly string[]).includes(protocolRaw)) protocol = protocolRaw as Protocol
    else bad(protocolName, protocolRaw, DEFAULTS.protocol, PROTOCOLS.join(' or '))
  }

  let endpoint: string | undefined
  let baseUsed: string | undefined
  const tracesEndpoint = get(ENV.TRACES_ENDPOINT)
  const baseEndpoint = get(ENV.ENDPOINT)
  if (tracesEndpoint !== undefined) {
    if (isHttpUrl(tracesEndpoint)) endpoint = tracesEndpoint
    else bad(ENV.TRACES_ENDPOINT, tracesEndpoint, 'the default endpoint', 'an http:// or https:// URL')
  } else if (baseEndpoint !== undefined) {
    if (isHttpUrl(baseEndpoint)) {
      baseUsed = baseEndpoint
      endpoint = tracesEndpointFor(protocol, baseEndpoint)
    }    else bad(ENV.ENDPOINT, baseEndpoint, 'the default endpoint', 'an http:// or https:// URL')
  }

  let sampler: SamplerName = DEFAULTS.sampler
  const samplerRaw = get(ENV.TRACES_SAMPLER)
  if (samplerRaw !== undefined) {
    const lower = samplerRaw.toLowerCase()
    if ((SAMPLERS as readonly string[]).includes(lower)) sampler = lower as SamplerName
    else bad(ENV.TRACES_SAMPLER, samplerRaw, DEFAULTS.sampler, SAMPLERS.join(', '))
  }

  let samplerRatio: number = DEFAULTS.samplerRatio
  const ratioRaw = get(ENV.TRACES_SAMPLER_ARG)
  if (ratioRaw !== undefined && sampler.endsWith('traceidratio')) {
    const ratio = Number(ratioRaw)
    if (Number.isFinite(ratio) && ratio >= 0 && ratio <= 1) samplerRatio = ratio
    else bad(ENV.TRACES_SAMPLER_ARG, ratioRaw, String(DEFAULTS.samplerRatio), 'a number from 0 to 1')
  }

  const list = <T extends string>(name: string, known: readonly T[], fallback: readonly T[]): readonly T[] => {
    const raw = get(name)
    if (raw === undefined) return fallback
    const names = [...new Set(raw.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== ''))]
    if (names.length > 0 && names.every((n) => (known as readonly string[]).includes(n))) return names as T[]
    bad(name, raw, fallback.join(','), `a comma-separated list of ${known.join(', ')}`)
    return fallback
  }
  const propagators = list(ENV.PROPAGATORS, PROPAGATORS, DEFAULTS.propagators)
  const resourceDetectors = list(ENV.NODE_RESOURCE_DETECTORS, RESOURCE_DETECTORS, DEFAULTS.resourceDetectors)

  const limits: Partial<Record<'scheduledDelayMillis' | 'exportTimeoutMillis' | 'maxQueueSize' | 'maxExportBatchSize' | 'attributeValueLengthLimit', number>> = {}
  const positive = (key: keyof typeof limits, name: string, fallback: number): void => {
    const raw = get(name)
    if (raw === undefined) return
    const value = Number(raw)
    if (Number.isInteger(value) && value > 0) limits[key] = value
    else bad(name, raw, String(fallback), 'a positive integer')
  }
  positive('scheduledDelayMillis', ENV.BSP_SCHEDULE_DELAY, DEFAULTS.scheduledDelayMillis)
  positive('exportTimeoutMillis', ENV.BSP_EXPORT_TIMEOUT, DEFAULTS.exportTimeoutMillis)
  positive('maxQueueSize', ENV.BSP_MAX_QUEUE_SIZE, DEFAULTS.maxQueueSize)
  positive('maxExportBatchSize', ENV.BSP_MAX_EXPORT_BATCH_SIZE, DEFAULTS.maxExportBatchSize)
  positive('attributeValueLengthLimit', get(ENV.SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT) !== undefined ? ENV.SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT : ENV.ATTRIBUTE_VALUE_LENGTH_LIMIT, DEFAULTS.attributeValueLengthLimit)
  if (limits.maxQueueSize !== undefined && limits.maxExportBatchSize !== undefined && limits.maxExportBatchSize > limits.maxQueueSize) {
    bad(ENV.BSP_MAX_EXPORT_BATCH_SIZE, String(limits.maxExportBatchSize), `${limits.maxQueueSize} (the queue size)`, 'at most OTEL_BSP_MAX_QUEUE_SIZE')
    limits.maxExportBatchSize = limits.maxQueueSize
  }

  // Count limits: 0 is valid (keep none). The specific variable wins over the general one.
  const spanLimits: SpanCountLimits = {}
  const count = (key: keyof SpanCountLimits, ...names: string[]): void => {
    const name = names.find((n) => get(n) !== undefined)
    if (name === undefined) return
    const raw = get(name) as string
    const value = Number(raw)
    if (Number.isInteger(value) && value >= 0) spanLimits[key] = value
    else bad(name, raw, 'the SDK default', 'a non-negative integer')
  }
  count('attributeCountLimit', ENV.SPAN_ATTRIBUTE_COUNT_LIMIT, ENV.ATTRIBUTE_COUNT_LIMIT)
  count('eventCountLimit', ENV.SPAN_EVENT_COUNT_LIMIT)
  count('linkCountLimit', ENV.SPAN_LINK_COUNT_LIMIT)
  count('attributePerEventCountLimit', ENV.EVENT_ATTRIBUTE_COUNT_LIMIT, ENV.SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT)
  count('attributePerLinkCountLimit', ENV.LINK_ATTRIBUTE_COUNT_LIMIT, ENV.SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT)

  let logLevel: LogLevelName | undefined
  const logLevelRaw = get(ENV.LOG_LEVEL)
  if (logLevelRaw !== undefined) {
    const lower = logLevelRaw.toLowerCase()
    if ((LOG_LEVELS as readonly string[]).includes(lower)) logLevel = lower as LogLevelName
    else bad(ENV.LOG_LEVEL, logLevelRaw, 'none', LOG_LEVELS.join(', '))
  }

  const serviceName = get(ENV.SERVICE_NAME)
  return {
    disabled,
    ...(serviceName !== undefined ? { serviceName } : {}),
    resourceAttributes,
    exporters,
    protocol,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(baseUsed !== undefined ? { baseEndpoint: baseUsed } : {}),
    sampler,
    samplerRatio,
    propagators,
    resourceDetectors,
    ...limits,
    ...(Object.keys(spanLimits).length > 0 ? { spanLimits } : {}),
    ...(logLevel !== undefined ? { logLevel } : {})
  }
}

/** W3C Baggage-like list `k=v,k2=v2`, values percent-encoded. Returns null when any member is malformed. */
export function parseResourceAttributes (raw: string): Record<string, string> | null {
  const out: Record<string, string> = {}
  for (const member of raw.split(',')) {
    if (member.trim() === '') continue
    const eq = member.indexOf('=')
    if (eq <= 0) return null
    const key = member.slice(0, eq).trim()
    if (key === '' || /[\s"\\]/.test(key)) return null
    try {
      out[key] = decodeURIComponent(member.slice(eq + 1).trim())
    } catch {
      // o11y-gate-ignore error-observed: null tells the caller the variable is malformed; it warns once and uses the default
      return null
    }
  }
  return out
}

export function isHttpUrl (value: string): boolean {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    // o11y-gate-ignore error-observed: not a URL is the answer; the caller warns and falls back
    return false
  }
}

/** The traces URL for a base OTEL_EXPORTER_OTLP_ENDPOINT: `/v1/traces` appended for http/protobuf, as is for gRPC. */
export function tracesEndpointFor (protocol: Protocol, base: string): string {
  return protocol === 'grpc' ? base : base.replace(/\/+$/, '') + DEFAULTS.httpTracesPath
}
