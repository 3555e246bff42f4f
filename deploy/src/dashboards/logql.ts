import { LOG_FIELD, SEVERITY_NUMBER_ERROR } from '../constants'

/**
 * LogQL shared by the dashboards and the runbooks (docs/runbooks.md quotes them): the log lines
 * of @o11y/logging as Loki stores them after OTLP ingestion (see LOG_FIELD).
 */

/** Stream selector of the services chosen in the dashboard's `service` variable. */
export const serviceStreams = `{${LOG_FIELD.service}=~"$service"}`

/** Lines at ERROR or FATAL. */
export const errorLines = `${serviceStreams} | ${LOG_FIELD.severityNumber} >= ${SEVERITY_NUMBER_ERROR}`

/** UUIDs (order, payment and request ids) in messages, replaced so that equal messages group together. */
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'

/** Error lines per route per interval; lines written outside a request line have no route. */
export const errorLinesPerRoute =
  `sum by (${LOG_FIELD.route}) (count_over_time(${errorLines} | label_format ${LOG_FIELD.route}=\`{{ or .${LOG_FIELD.route} "(no route)" }}\` [$__auto]))`

/**
 * The ten most frequent error messages over the dashboard's time range: the error's own message
 * (err.message) when the line carries one, else the line; ids replaced by `:id`.
 */
export const topErrorMessages =
  `topk(10, sum by (message) (count_over_time(${errorLines} | label_format message=\`{{ regexReplaceAll "${UUID}" (or .${LOG_FIELD.errorMessage} __line__) ":id" }}\` [$__range])))`
