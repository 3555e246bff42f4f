import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AddressInfo } from 'node:net'
import type { OtlpOptions } from './otlp'
import type { Counter, CounterConfiguration, Gauge, GaugeConfiguration, Histogram, HistogramConfiguration, Registry } from 'prom-client'

/** Returns extra label values for a request; names must be declared in the `labelNames` option. */
export type LabelsFunction = (request: FastifyRequest, reply: FastifyReply) => Record<string, string | number | boolean | undefined | null>

export type MetricsAuth =
  | { type: 'bearer', token: string }
  | { type: 'basic', username: string, password: string }

export interface MetricsEndpointOptions {
  /** Path of the scrape endpoint. Default `/metrics`. */
  path?: string
  /** Require a credential; a missing or wrong one gets 401 with `WWW-Authenticate`. */
  auth?: MetricsAuth
  /**
   * Serve the endpoint on its own HTTP server on this port (0 = any free port) instead of the
   * app's; the app's port then answers 404 for the path. Started on `ready`, closed on `close`.
   */
  port?: number
  /** Host of the separate server. Default `0.0.0.0`. */
  host?: string
  /** A scrape that takes longer (a hanging collector) answers 500. Default 5000 ms. */
  timeoutMs?: number
  /**
   * Scrapes within this many milliseconds of the last render (per format) get that render again
   * instead of a new one. Default 0: every scrape that does not overlap another gets fresh numbers
   * (overlapping scrapes always share one render).
   */
  minIntervalMs?: number
}

/** Route templates (exact strings) or RegExps, or a function deciding per route template and method. */
export type IgnoreRoutes = Array<string | RegExp> | ((route: string, method: string) => boolean)

export interface O11yMetricsOptions {
  /** Registry to put every metric in. Default: a new Registry per Fastify instance (never the global one). */
  registry?: Registry
  /** Prefix of the metrics created through `app.metrics.counter/gauge/histogram`. Default ''. */
  prefix?: string
  /** `'default'` (http_requests_total, ...) or `'otel'` (http_server_request_duration_seconds, ...). */
  naming?: 'default' | 'otel'
  /** Upper bounds of the request-duration histogram, in seconds. Default: OpenTelemetry's HTTP buckets. */
  buckets?: number[]
  /** `'exact'` (`200`, `404`) or `'class'` (`2xx`, `4xx`) status-code label values. Default `'exact'`. */
  statusCodes?: 'exact' | 'class'
  /**
   * Label sets per metric before new ones go to the overflow series: every request metric, and the
   * default of every `app.metrics.*` metric (each can set its own `maxLabelSets`). Default 2000.
   */
  maxLabelSets?: number
  /** Extra label names of the request metrics, filled by `labels` (or a route's `config.metrics.labels`). */
  labelNames?: string[]
  /** Computes the values of `labelNames` for a request. */
  labels?: LabelsFunction
  /** Routes left out of the request metrics. Default: the metrics path and common health routes. */
  ignoreRoutes?: IgnoreRoutes
  /** @deprecated the old name of `ignoreRoutes` (warns once with O11Y_ERR_METRICS_DEPRECATED_OPTION). */
  excludeRoutes?: IgnoreRoutes
  /** Attach trace_id/span_id exemplars from the active sampled span. Default true. */
  exemplars?: boolean
  /** Process and Node.js runtime metrics (prom-client defaults + event-loop utilization). Default true. */
  runtimeMetrics?: boolean
  /**
   * node:cluster worker mode: answer the primary's `clusterMetrics()` with this registry, and serve
   * at /metrics the aggregate of every worker (README "Cluster mode"). Default false.
   */
  cluster?: boolean
  /** The scrape endpoint, or `false` to register none (read `app.metrics.registry` yourself). */
  endpoint?: MetricsEndpointOptions | false
  /**
   * Push the registry's metrics over OTLP at an interval, beside the scrape endpoint. Default: on
   * when OTEL_METRICS_EXPORTER names `otlp`, configured from the OTEL_* variables; `true` or an
   * object turns it on (the object's fields win over the variables); `false` keeps it off.
   */
  otlp?: OtlpOptions | boolean
}

export interface RouteMetricsConfig {
  /**
   * A label function for this route (replaces the plugin's `labels`), or static values of
   * declared `labelNames` (`{ team: 'payments' }`), which win over the label function's.
   */
  labels?: LabelsFunction | Record<string, string | number | boolean>
  /** Upper bounds (seconds) of this route's request-duration series, instead of `buckets`. */
  buckets?: number[]
}

/** Extra, optional field of the `app.metrics.counter/gauge/histogram` definitions. */
export interface LabelSetCap {
  /** Label sets of this metric before new ones go to its overflow series. Default: the plugin's `maxLabelSets`. */
  maxLabelSets?: number
}

export interface MetricsApi {
  /** The registry holding every metric of this instance. */
  readonly registry: Registry
  /** Get or create a counter (`prefix` applied). Same name and shape returns the same metric. */
  counter<T extends string = string> (config: Omit<CounterConfiguration<T>, 'registers'> & LabelSetCap): Counter<T>
  gauge<T extends string = string> (config: Omit<GaugeConfiguration<T>, 'registers'> & LabelSetCap): Gauge<T>
  histogram<T extends string = string> (config: Omit<HistogramConfiguration<T>, 'registers'> & LabelSetCap): Histogram<T>
  /**
   * Wrap a sync or async function: every call counts in function_calls_total{function, status}
   * and times function_duration_seconds{function}. Returns the wrapped function.
   */
  track<F extends (...args: any[]) => any> (name: string, fn: F): F
  /** Render the registry as a scrape would: Prometheus text 0.0.4, or OpenMetrics 1.0 with exemplars. */
  render (format?: 'prometheus' | 'openmetrics'): Promise<string>
  /** Address of the separate metrics server (`endpoint.port`), once listening; otherwise null. */
  address (): AddressInfo | null
}
