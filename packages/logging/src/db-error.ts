import { DB_ERROR_MESSAGE } from './constants'

/**
 * Database errors whose text can quote the values of a query: PostgreSQL's
 * `invalid input syntax for type integer: "the-value"` or `Key (email)=(a@b.c) already exists.`
 * (pg's `DatabaseError`: message, detail, where, hint, internalQuery), MySQL's `sqlMessage` and
 * `sql` (mysql2), SQLite's message. By default a log line keeps what identifies the failure
 * (the class, the SQLSTATE or driver code and its class name, identifiers such as the table or
 * constraint) and drops the text.
 */

/** Fields of a database error that name things, never values: kept. */
const SAFE_FIELDS = ['code', 'sqlState', 'errno', 'severity', 'routine', 'schema', 'table', 'column', 'dataType', 'constraint'] as const

/** SQLSTATE classes (the first two characters), as named in the PostgreSQL manual, appendix A. */
const SQLSTATE_CLASSES: Readonly<Record<string, string>> = {
  '01': 'warning',
  '02': 'no_data',
  '03': 'sql_statement_not_yet_complete',
  '08': 'connection_exception',
  '09': 'triggered_action_exception',
  '0A': 'feature_not_supported',
  '0B': 'invalid_transaction_initiation',
  '0F': 'locator_exception',
  '0L': 'invalid_grantor',
  '0P': 'invalid_role_specification',
  '0Z': 'diagnostics_exception',
  20: 'case_not_found',
  21: 'cardinality_violation',
  22: 'data_exception',
  23: 'integrity_constraint_violation',
  24: 'invalid_cursor_state',
  25: 'invalid_transaction_state',
  26: 'invalid_sql_statement_name',
  27: 'triggered_data_change_violation',
  28: 'invalid_authorization_specification',
  '2B': 'dependent_privilege_descriptors_still_exist',
  '2D': 'invalid_transaction_termination',
  '2F': 'sql_routine_exception',
  34: 'invalid_cursor_name',
  38: 'external_routine_exception',
  39: 'external_routine_invocation_exception',
  '3B': 'savepoint_exception',
  '3D': 'invalid_catalog_name',
  '3F': 'invalid_schema_name',
  40: 'transaction_rollback',
  42: 'syntax_error_or_access_rule_violation',
  44: 'with_check_option_violation',
  53: 'insufficient_resources',
  54: 'program_limit_exceeded',
  55: 'object_not_in_prerequisite_state',
  57: 'operator_intervention',
  58: 'system_error',
  72: 'snapshot_failure',
  F0: 'config_file_error',
  HV: 'fdw_error',
  P0: 'plpgsql_error',
  XX: 'internal_error'
}

const SQLSTATE = /^[0-9A-Z]{5}$/

/** A pg, mysql2 or sqlite error (duck-typed: the drivers are not dependencies of this package). */
export function isDbError (value: unknown): boolean {
  if (typeof value !== 'object' || value === null || !(value instanceof Error || typeof (value as Error).message === 'string')) return false
  const err = value as Error & Record<string, unknown>
  // pg's DatabaseError sets its own `name` to 'error'; its class name is the reliable mark.
  const className = (err.constructor as { name?: unknown } | undefined)?.name
  if (className === 'DatabaseError' || className === 'SqliteError' || err.name === 'SqliteError') return true
  if (typeof err.code === 'string' && SQLSTATE.test(err.code) && typeof err.severity === 'string') return true
  if (typeof err.sqlState === 'string' || typeof err.sqlMessage === 'string') return true
  return typeof err.code === 'string' && err.code.startsWith('SQLITE_')
}

/** `database error 22P02 (data_exception)`: what the line says instead of the driver's text. */
export function dbErrorMessage (err: Record<string, unknown>): string {
  const code = typeof err.sqlState === 'string' ? err.sqlState : err.code
  if (typeof code !== 'string') return DB_ERROR_MESSAGE
  const sqlClass = SQLSTATE.test(code) ? SQLSTATE_CLASSES[code.slice(0, 2)] : undefined
  return sqlClass === undefined ? `${DB_ERROR_MESSAGE} ${code}` : `${DB_ERROR_MESSAGE} ${code} (${sqlClass})`
}

/**
 * A stand-in for a database error, of the same class (so the serialized `type` stays
 * `DatabaseError`): the generic message, the stack's frames under it, the safe fields.
 */
export function reduceDbError (err: Error & Record<string, unknown>): Error {
  const message = dbErrorMessage(err)
  const reduced = Object.create(Object.getPrototypeOf(err) as object) as Error & Record<string, unknown>
  const name = typeof err.name === 'string' ? err.name : 'Error'
  const stack = typeof err.stack === 'string' ? err.stack : ''
  const frames = stack.indexOf('\n    at ')
  Object.defineProperty(reduced, 'message', { value: message, writable: true, configurable: true })
  Object.defineProperty(reduced, 'stack', { value: `${name}: ${message}${frames === -1 ? '' : stack.slice(frames)}`, writable: true, configurable: true })
  for (const field of SAFE_FIELDS) {
    if (typeof err[field] === 'string' || typeof err[field] === 'number') reduced[field] = err[field]
  }
  return reduced
}

/**
 * What a database error nested in a logged object becomes (where it would otherwise be written as
 * `JSON.stringify` writes it, own fields such as `detail` included): type, generic message, safe fields.
 */
export function reducedDbErrorFields (err: Error & Record<string, unknown>): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    type: (err.constructor as { name?: unknown } | undefined)?.name ?? 'Error',
    message: dbErrorMessage(err)
  }
  for (const field of SAFE_FIELDS) {
    if (typeof err[field] === 'string' || typeof err[field] === 'number') fields[field] = err[field]
  }
  return fields
}

/** Depth of `cause` chains inspected for a database error. */
const MAX_CAUSE_DEPTH = 8

/**
 * `err` when no database error is in it or its `cause` chain; otherwise a copy whose database
 * errors are reduced (a wrapper keeps its class, message and stack; only its cause is replaced).
 */
export function withoutDbDetail (err: unknown, depth = 0): unknown {
  if (typeof err !== 'object' || err === null) return err
  if (isDbError(err)) return reduceDbError(err as Error & Record<string, unknown>)
  const cause = (err as { cause?: unknown }).cause
  if (depth >= MAX_CAUSE_DEPTH || typeof cause !== 'object' || cause === null) return err
  const safeCause = withoutDbDetail(cause, depth + 1)
  if (safeCause === cause) return err
  const copy = Object.create(Object.getPrototypeOf(err) as object) as Record<string, unknown>
  Object.defineProperties(copy, Object.getOwnPropertyDescriptors(err))
  Object.defineProperty(copy, 'cause', { value: safeCause, writable: true, configurable: true, enumerable: false })
  return copy
}
