/** Errors the order service raises on bad configuration. Codes are stable and never reused. */
export const ERROR_CODES = {
  config: 'O11Y_ERR_ORDERS_CONFIG',
  embeddedDb: 'O11Y_ERR_ORDERS_EMBEDDED_DB'
} as const

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES]

export class OrderServiceError extends Error {
  readonly code: ErrorCode
  constructor (code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(`@o11y/order-service: ${message}`, options)
    this.name = 'OrderServiceError'
    this.code = code
  }
}

export function configError (name: string, expected: string, got: unknown): OrderServiceError {
  return new OrderServiceError(ERROR_CODES.config, `${name} must be ${expected} (got ${JSON.stringify(got)})`)
}
