import type { IncomingMessage } from 'node:http'
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify'
import type { DestinationStream, Logger } from 'pino'
import type { LEVELS } from './constants'

export type { Logger } from 'pino'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false`: the o11yLogging plugin writes no request line for this route. */
    logging?: boolean
  }
}

export type Level = typeof LEVELS[number]

/** Levels a request line can be written at. */
export type LineLevel = Exclude<Level, 'silent'>

/** Where lines go: a stream (anything with `write(string)`), a file descriptor, or a file path. */
export type Destination = DestinationStream | NodeJS.WritableStream | number | string

export interface RedactOptions {
  /**
   * Names or paths to redact, matched at any depth without regard to letter case; `*` and `?` are
   * wildcards inside a name (`*token*`). Added to the defaults unless `replaceDefaults`.
   */
  paths?: string[]
  /** Default patterns to leave out (each must be one of `DEFAULT_REDACT_PATHS`). */
  remove?: string[]
  /** Written in place of a redacted value. Default `[REDACTED]`. */
  censor?: string
  /** `true`: use only `paths`, dropping the default patterns. Default `false`. */
  replaceDefaults?: boolean
}

/** OTLP transport of exported log records. */
export type OtlpProtocol = 'http/protobuf' | 'grpc'

export interface OtlpOptions {
  /**
   * Full URL: `http://host:4318/v1/logs` (http/protobuf) or `http://host:4317` (grpc). Default:
   * OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT (+ `/v1/logs` over HTTP),
   * else the local collector.
   */
  endpoint?: string
  /** Default: OTEL_EXPORTER_OTLP_LOGS_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, else `http/protobuf`. */
  protocol?: OtlpProtocol
  /** Records waiting for export; a record beyond it is dropped and counted. Default 2048. */
  maxQueueSize?: number
  /** Records per export request. Default 512. */
  maxExportBatchSize?: number
  /** Longest wait before a partial batch is sent. Default 1000 ms. */
  scheduledDelayMillis?: number
  /** One export gives up after this long; its records count as failed. Default 3000 ms. */
  exportTimeoutMillis?: number
  /** Longest wait of `flushLogs` and of the Fastify `onClose` flush. Default 3000 ms. */
  shutdownTimeoutMillis?: number
}

export interface LoggerOptions {
  /**
   * OTLP log export beside the JSON lines: `true` or an object turns it on, `false` off. Default:
   * on when OTEL_LOGS_EXPORTER lists `otlp`.
   */
  otlp?: boolean | OtlpOptions
  /** The `logger` field of every line. Default `app`. */
  name?: string
  /** Minimum level written. Default `info`. */
  level?: Level
  /** Where lines go. Default: standard output (file descriptor 1). */
  destination?: Destination
  /** Write each line synchronously (fd or path destinations). Default `false`: batched, asynchronous. */
  sync?: boolean
  /**
   * Most characters waiting to be written (queued and in flight) for an fd or path destination;
   * a line beyond it is dropped and counted. Default 2 Mi (`DEFAULT_MAX_BUFFER_LENGTH`).
   */
  maxBufferLength?: number
  /** Longest line in bytes (newline included); longer lines are shortened. Default 32 KiB. */
  maxLineBytes?: number
  /**
   * `true`: database errors (pg, mysql2, sqlite) are logged with their full text, which can quote
   * the values of the query. Default `false`: code, class and a generic message only.
   */
  dbErrorDetail?: boolean
  /** Extra paths to redact (array), or the full redaction settings (object). */
  redact?: string[] | RedactOptions
  /** Fields written on every line (serialized once, at creation). */
  base?: Record<string, unknown>
  /** pino serializers by field name, merged over the defaults (`req`, `res`, `err`). */
  serializers?: Record<string, (value: any) => unknown>
}

export interface FastifyLoggerOptions extends LoggerOptions {
  /** Use this logger instead of creating one (then no other logger option may be given). */
  logger?: Logger
  /**
   * Header whose value becomes the request id when it is 1-128 characters of `[A-Za-z0-9._:/+=@-]`;
   * any other value (or none) gets a random UUID. `false`: always a random UUID. Default `x-request-id`.
   */
  requestIdHeader?: string | false
}

type LogControllerClass = NonNullable<FastifyServerOptions['logController']>

/** Server options to spread into `Fastify({ ... })`. */
export interface FastifyLoggingServerOptions {
  /**
   * A pino logger, typed as Fastify's base logger so that the app keeps the default
   * `FastifyInstance` type (functions typed `(app: FastifyInstance)` accept it).
   */
  loggerInstance: FastifyBaseLogger
  /** Fastify >= 5.12: request logging off, request id logged as `request_id`. */
  logController?: LogControllerClass
  /** Older Fastify 5 releases: the same settings as top-level options. */
  disableRequestLogging?: true
  requestIdLogLabel?: string
  requestIdHeader: false
  genReqId: (req: IncomingMessage) => string
  /** Makes each request's logger (`request_id` bound) without a pino child per request. */
  childLoggerFactory: NonNullable<FastifyServerOptions['childLoggerFactory']>
}

export interface O11yLoggingOptions {
  /** Level of the request line for 4xx responses. Default `info` (5xx: always `error`). */
  clientErrorLevel?: LineLevel
  /**
   * Routes that get no request line: URL templates as registered (`'/health'`), or a function of
   * `(url, method)` returning `true` to ignore. Decided once per route, when it is added.
   */
  ignoreRoutes?: string[] | ((url: string, method: string) => boolean)
}

/** What a logger's fd or path destination has done so far (`loggingStats(logger)`). */
export interface LoggingStats {
  /** Lines written to the destination. */
  written: number
  /** Lines dropped: the buffer was full, the destination had failed, or the process exited with a write pending. */
  dropped: number
  /** Lines queued or being written now. */
  buffered: number
  /** The error code (e.g. `EPIPE`) that stopped the destination, or `null` while it works. */
  failed: string | null
  /** OTLP export (0 when off): records accepted by the collector. */
  otlpExported: number
  /** OTLP export: records dropped because the export queue was full (or export was shut down). */
  otlpDropped: number
  /** OTLP export: records whose export failed (refused, unreachable, timed out). */
  otlpFailed: number
  /** OTLP export: records waiting in the queue now. */
  otlpQueued: number
}
