/** Errors of the order domain; `statusCode` is the HTTP answer, `message` is safe to show. */
export class HttpError extends Error {
  readonly statusCode: number
  readonly code: string
  constructor (statusCode: number, code: string, message: string) {
    super(message)
    this.name = 'HttpError'
    this.statusCode = statusCode
    this.code = code
  }
}

export const notFound = (id: string): HttpError => new HttpError(404, 'ORDER_NOT_FOUND', `order ${id} not found`)

export const notCancellable = (id: string, status: string): HttpError =>
  new HttpError(409, 'ORDER_NOT_CANCELLABLE', `order ${id} is ${status} and cannot be cancelled`)

export const notPayable = (id: string, status: string): HttpError =>
  new HttpError(409, 'ORDER_NOT_PAYABLE', `order ${id} is ${status} and cannot be checked out`)

export const invalidCart = (id: string, reason: string): HttpError =>
  new HttpError(422, 'CART_INVALID', `order ${id} cannot be checked out: ${reason}`)

export const invalidCursor = (): HttpError => new HttpError(400, 'CURSOR_INVALID', 'querystring/cursor is not a cursor returned by this API')

/** The simulated provider declined or failed: an upstream failure, hence 502. */
export const paymentFailed = (id: string, reason: string): HttpError =>
  new HttpError(502, 'PAYMENT_FAILED', `payment for order ${id} failed: ${reason}`)
