import { randomUUID } from 'node:crypto'
import { addSpanAttributes, addSpanEvent, withSpan } from '@o11y/tracing'
import { ORDER_STATUS, PAYMENT_STATUS, SPAN_ATTRIBUTES, SPAN_EVENTS, SPANS } from '../constants.js'
import { invalidCart, notFound, notPayable, paymentFailed, type HttpError } from './errors.js'
import type { PaymentProvider } from './payment.js'
import type { Order, OrderRepository } from './repository.js'

export interface BusinessMetrics {
  orderCreated (order: Order): void
  /** `reason`: the provider's decline reason, for failed payments. */
  paymentProcessed (status: 'succeeded' | 'failed', currency: string, reason?: string): void
  orderPaid (order: Order): void
}

export interface CheckoutResult {
  order: Order
  payment: { id: string, status: 'succeeded', providerRef: string }
}

/** Checks a pending order before it is charged; returns why it cannot be paid, if so. */
export function cartProblem (order: Order): string | undefined {
  if (order.items.length === 0) return 'the cart is empty'
  const total = order.items.reduce((sum, i) => sum + i.quantity * i.unitPriceCents, 0)
  if (total !== order.totalCents) return 'the total does not match the items'
  if (total === 0) return 'the total is zero'
  return undefined
}

/**
 * checkout_flow > validate_cart, process_payment, then the order is marked paid. Client errors
 * (404, 409, 422) are returned, not thrown inside the spans, so they do not mark spans ERROR;
 * a failed payment is an upstream failure and does.
 */
export async function checkout (id: string, deps: { repo: OrderRepository, provider: PaymentProvider, metrics: BusinessMetrics }): Promise<CheckoutResult> {
  const outcome = await withSpan(SPANS.checkoutFlow, async (): Promise<CheckoutResult | HttpError> => {
    const checked = await withSpan(SPANS.validateCart, async (): Promise<Order | HttpError> => {
      const order = await deps.repo.get(id)
      if (!order) return notFound(id)
      addSpanAttributes({ [SPAN_ATTRIBUTES.orderStatus]: order.status, [SPAN_ATTRIBUTES.orderItemCount]: order.items.length })
      if (order.status !== ORDER_STATUS.pending) return notPayable(id, order.status)
      const problem = cartProblem(order)
      if (problem) return invalidCart(id, problem)
      addSpanEvent(SPAN_EVENTS.cartValidated, { [SPAN_ATTRIBUTES.orderItemCount]: order.items.length, [SPAN_ATTRIBUTES.orderTotalCents]: order.totalCents })
      return order
    })
    if (!('items' in checked)) return checked
    const order = checked

    const paymentId = randomUUID()
    const providerRef = await withSpan(SPANS.processPayment, async () => {
      addSpanEvent(SPAN_EVENTS.paymentRequested, { [SPAN_ATTRIBUTES.orderTotalCents]: order.totalCents, [SPAN_ATTRIBUTES.orderCurrency]: order.currency })
      const result = await deps.provider.charge({ orderId: order.id, amountCents: order.totalCents, currency: order.currency })
      if (!result.ok) {
        addSpanEvent(SPAN_EVENTS.paymentDeclined, { reason: result.reason, latency_ms: result.latencyMs })
        deps.metrics.paymentProcessed(PAYMENT_STATUS.failed, order.currency, result.reason)
        await deps.repo.recordPayment({ id: paymentId, orderId: order.id, status: 'failed', amountCents: order.totalCents, currency: order.currency, failureReason: result.reason })
        throw paymentFailed(order.id, result.reason)
      }
      addSpanEvent(SPAN_EVENTS.paymentAuthorized, { [SPAN_ATTRIBUTES.paymentId]: paymentId, latency_ms: result.latencyMs })
      deps.metrics.paymentProcessed(PAYMENT_STATUS.succeeded, order.currency)
      return result.providerRef
    }, { [SPAN_ATTRIBUTES.paymentId]: paymentId, [SPAN_ATTRIBUTES.paymentProvider]: deps.provider.name, [SPAN_ATTRIBUTES.orderCurrency]: order.currency })

    const paid = await deps.repo.markPaid({ id: paymentId, orderId: order.id, status: 'succeeded', amountCents: order.totalCents, currency: order.currency, providerRef })
    if (!paid) {
      // Cancelled while the provider was charging: a real system would refund here.
      const current = await deps.repo.get(order.id)
      return notPayable(order.id, current?.status ?? 'gone')
    }
    deps.metrics.orderPaid(paid)
    return { order: paid, payment: { id: paymentId, status: PAYMENT_STATUS.succeeded, providerRef } }
  }, { [SPAN_ATTRIBUTES.orderId]: id })
  if (outcome instanceof Error) throw outcome
  return outcome
}
