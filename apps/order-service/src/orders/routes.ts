import type { FastifyInstance } from 'fastify'
import { addSpanAttributes } from '@o11y/tracing'
import { PAGE_LIMIT_DEFAULT, ROUTES } from '../constants.js'
import { checkout, type BusinessMetrics } from './checkout.js'
import { decodeCursor, encodeCursor } from './cursor.js'
import { notCancellable, notFound } from './errors.js'
import type { PaymentProvider } from './payment.js'
import type { NewOrder, OrderRepository } from './repository.js'
import { checkoutResponse, createOrderBody, listOrdersQuery, orderIdParams, orderPageResponse, orderResponse } from './schemas.js'

export interface OrderRoutesOptions {
  repo: OrderRepository
  provider: PaymentProvider
  metrics: BusinessMetrics
}

interface IdParams { id: string }
interface ListQuery { customerId?: string, limit?: number, cursor?: string }

export async function orderRoutes (app: FastifyInstance, opts: OrderRoutesOptions): Promise<void> {
  const { repo, metrics } = opts

  app.post<{ Body: NewOrder }>(ROUTES.orders, { schema: { body: createOrderBody, response: orderResponse } }, async function createOrder (request, reply) {
    const order = await repo.create(request.body)
    metrics.orderCreated(order)
    request.log.info({ order_id: order.id, customer_id: order.customerId, total_cents: order.totalCents }, 'order created')
    return reply.code(201).header('location', `${ROUTES.orders}/${order.id}`).send(order)
  })

  app.get<{ Params: IdParams }>(ROUTES.order, { schema: { params: orderIdParams, response: orderResponse } }, async function getOrder (request) {
    addSpanAttributes({ 'order.id': request.params.id })
    const order = await repo.get(request.params.id)
    if (!order) throw notFound(request.params.id)
    return order
  })

  app.get<{ Querystring: ListQuery }>(ROUTES.orders, { schema: { querystring: listOrdersQuery, response: orderPageResponse } }, async function listOrders (request) {
    const { customerId, cursor, limit = PAGE_LIMIT_DEFAULT } = request.query
    const page = await repo.list({ customerId, limit, afterSeq: cursor === undefined ? undefined : decodeCursor(cursor) })
    addSpanAttributes({ 'orders.page.size': page.orders.length, 'orders.page.limit': limit, 'orders.page.has_more': Boolean(page.nextSeq) })
    return { orders: page.orders, ...(page.nextSeq ? { nextCursor: encodeCursor(page.nextSeq) } : {}) }
  })

  app.post<{ Params: IdParams }>(ROUTES.checkout, { schema: { params: orderIdParams, response: checkoutResponse } }, async function checkoutOrder (request) {
    const result = await checkout(request.params.id, opts)
    request.log.info({ order_id: result.order.id, payment_id: result.payment.id }, 'order paid')
    return result
  })

  app.post<{ Params: IdParams }>(ROUTES.cancel, { schema: { params: orderIdParams, response: orderResponse } }, async function cancelOrder (request) {
    const { order, cancelled } = await repo.cancel(request.params.id)
    if (!order) throw notFound(request.params.id)
    if (!cancelled) throw notCancellable(order.id, order.status)
    request.log.info({ order_id: order.id }, 'order cancelled')
    return order
  })
}
