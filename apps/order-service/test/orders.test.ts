import { randomUUID } from 'node:crypto'
import type { InjectOptions } from 'fastify'
import t, { type Test } from 'tap'
import { buildApp } from '../src/app.js'
import type { PaymentProvider, SimulatedProviderOptions } from '../src/orders/payment.js'
import { databaseTargets, sampleOrder, testDatabase, type DbTarget } from './helpers.js'

const targets = await databaseTargets(t)

async function makeApp (t: Test, target: DbTarget, payment: SimulatedProviderOptions = { latencyMs: 0, failureRate: 0 }) {
  const db = await testDatabase(t, target)
  const app = await buildApp({ db, payment, logger: { level: 'silent' } })
  t.teardown(() => app.close())
  return { app, db }
}

for (const target of targets) {
  t.test(`${target.name}: create, read and 404`, async (t) => {
    const { app } = await makeApp(t, target)
    const created = await app.inject({ method: 'POST', url: '/api/orders', payload: sampleOrder() })
    t.equal(created.statusCode, 201)
    const order = created.json()
    t.match(order, {
      id: /^[0-9a-f-]{36}$/,
      customerId: 'c-1',
      status: 'pending',
      currency: 'EUR',
      totalCents: 2 * 1250 + 899,
      items: [{ sku: 'BOOK-1', quantity: 2, unitPriceCents: 1250 }, { sku: 'MUG-2', quantity: 1, unitPriceCents: 899 }],
      paidAt: null,
      cancelledAt: null
    })
    t.ok(!Number.isNaN(Date.parse(order.createdAt)), 'createdAt is a date-time')
    t.equal(created.headers.location, `/api/orders/${order.id}`)

    const read = await app.inject({ url: `/api/orders/${order.id}` })
    t.equal(read.statusCode, 200)
    t.same(read.json(), order)

    const missing = randomUUID()
    const absent = await app.inject({ url: `/api/orders/${missing}` })
    t.equal(absent.statusCode, 404)
    t.same(absent.json(), { statusCode: 404, error: 'Not Found', code: 'ORDER_NOT_FOUND', message: `order ${missing} not found` })
  })

  t.test(`${target.name}: validation errors answer 400 with a clear message`, async (t) => {
    const { app } = await makeApp(t, target)
    const cases: Array<[string, InjectOptions, RegExp]> = [
      ['missing items', { method: 'POST', url: '/api/orders', payload: { customerId: 'c-1', currency: 'EUR' } }, /body must have required property 'items'/],
      ['unknown field', { method: 'POST', url: '/api/orders', payload: { ...sampleOrder(), coupon: 'FREE' } }, /body must NOT have additional properties/],
      ['unknown item field', { method: 'POST', url: '/api/orders', payload: { customerId: 'c', currency: 'EUR', items: [{ sku: 'A', quantity: 1, unitPriceCents: 1, color: 'red' }] } }, /body\/items\/0 must NOT have additional properties/],
      ['zero quantity', { method: 'POST', url: '/api/orders', payload: { customerId: 'c', currency: 'EUR', items: [{ sku: 'A', quantity: 0, unitPriceCents: 1 }] } }, /body\/items\/0\/quantity must be >= 1/],
      ['fractional price', { method: 'POST', url: '/api/orders', payload: { customerId: 'c', currency: 'EUR', items: [{ sku: 'A', quantity: 1, unitPriceCents: 1.5 }] } }, /body\/items\/0\/unitPriceCents must be integer/],
      ['unknown currency', { method: 'POST', url: '/api/orders', payload: { ...sampleOrder(), currency: 'XXX' } }, /body\/currency must be equal to one of the allowed values/],
      ['empty cart', { method: 'POST', url: '/api/orders', payload: { ...sampleOrder(), items: [] } }, /body\/items must NOT have fewer than 1 items/],
      ['malformed JSON', { method: 'POST', url: '/api/orders', payload: '{"customerId":', headers: { 'content-type': 'application/json' } }, /JSON/],
      ['bad id', { url: '/api/orders/not-a-uuid' }, /params\/id must match format "uuid"/],
      ['bad id on checkout', { method: 'POST', url: '/api/orders/123/checkout' }, /params\/id must match format "uuid"/],
      ['limit above the cap', { url: '/api/orders?limit=1000' }, /querystring\/limit must be <= 100/],
      ['limit not a number', { url: '/api/orders?limit=ten' }, /querystring\/limit must be integer/],
      ['unknown query parameter', { url: '/api/orders?customer=c-1' }, /querystring must NOT have additional properties/],
      ['forged cursor', { url: `/api/orders?cursor=${Buffer.from('s:abc').toString('base64url')}` }, /querystring\/cursor is not a cursor returned by this API/]
    ]
    for (const [name, request, message] of cases) {
      const res = await app.inject(request)
      t.equal(res.statusCode, 400, `${name}: 400`)
      t.match(res.json(), { statusCode: 400, error: 'Bad Request', message }, `${name}: message`)
    }
    const list = await app.inject({ url: '/api/orders' })
    t.same(list.json(), { orders: [] }, 'nothing was created by the rejected requests')
  })

  t.test(`${target.name}: list filters by customer and pages with a cursor`, async (t) => {
    const { app } = await makeApp(t, target)
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      ids.push((await app.inject({ method: 'POST', url: '/api/orders', payload: sampleOrder('alice') })).json().id)
      if (i < 2) await app.inject({ method: 'POST', url: '/api/orders', payload: sampleOrder('bob', 'USD') })
    }
    const seen: string[] = []
    const pageSizes: number[] = []
    let cursor: string | undefined
    do {
      const res = await app.inject({ url: '/api/orders', query: { customerId: 'alice', limit: '2', ...(cursor ? { cursor } : {}) } })
      t.equal(res.statusCode, 200)
      const page = res.json()
      pageSizes.push(page.orders.length)
      for (const o of page.orders) {
        t.equal(o.customerId, 'alice')
        seen.push(o.id)
      }
      cursor = page.nextCursor
    } while (cursor)
    t.same(pageSizes, [2, 2, 1])
    t.same(seen, [...ids].reverse(), 'newest first, every order once')

    const all = (await app.inject({ url: '/api/orders?limit=100' })).json()
    t.equal(all.orders.length, 7)
    t.notOk('nextCursor' in all, 'no cursor after the last page')
    const def = (await app.inject({ url: '/api/orders' })).json()
    t.equal(def.orders.length, 7, 'the default limit (20) covers them')
    const bob = (await app.inject({ url: '/api/orders?customerId=bob' })).json()
    t.same(bob.orders.map((o: { currency: string }) => o.currency), ['USD', 'USD'])
  })

  t.test(`${target.name}: checkout succeeds, then the order is neither payable nor cancellable`, async (t) => {
    const { app, db } = await makeApp(t, target)
    const order = (await app.inject({ method: 'POST', url: '/api/orders', payload: sampleOrder() })).json()
    const res = await app.inject({ method: 'POST', url: `/api/orders/${order.id}/checkout` })
    t.equal(res.statusCode, 200)
    const body = res.json()
    t.match(body, { order: { id: order.id, status: 'paid', totalCents: order.totalCents }, payment: { id: /^[0-9a-f-]{36}$/, status: 'succeeded', providerRef: /^sim_/ } })
    t.ok(body.order.paidAt, 'paidAt is set')
    t.equal((await app.inject({ url: `/api/orders/${order.id}` })).json().status, 'paid')
    const { rows } = await db.query(`SELECT status, amount_cents::int AS amount FROM ${db.table('payments')} WHERE order_id = $1`, [order.id])
    t.same(rows, [{ status: 'succeeded', amount: order.totalCents }], 'the payment is recorded')

    const again = await app.inject({ method: 'POST', url: `/api/orders/${order.id}/checkout` })
    t.equal(again.statusCode, 409)
    t.match(again.json(), { code: 'ORDER_NOT_PAYABLE', message: `order ${order.id} is paid and cannot be checked out` })
    const cancel = await app.inject({ method: 'POST', url: `/api/orders/${order.id}/cancel` })
    t.equal(cancel.statusCode, 409)
    t.match(cancel.json(), { statusCode: 409, error: 'Conflict', code: 'ORDER_NOT_CANCELLABLE', message: `order ${order.id} is paid and cannot be cancelled` })

    const missing = await app.inject({ method: 'POST', url: `/api/orders/${randomUUID()}/checkout` })
    t.equal(missing.statusCode, 404)
  })

  t.test(`${target.name}: a failed payment answers 502 and leaves the order pending`, async (t) => {
    const { app, db } = await makeApp(t, target, { latencyMs: 1, failureRate: 1 })
    const order = (await app.inject({ method: 'POST', url: '/api/orders', payload: sampleOrder('carol', 'GBP') })).json()
    const res = await app.inject({ method: 'POST', url: `/api/orders/${order.id}/checkout` })
    t.equal(res.statusCode, 502)
    t.match(res.json(), { statusCode: 502, error: 'Bad Gateway', code: 'PAYMENT_FAILED', message: new RegExp(`^payment for order ${order.id} failed: `) })
    t.equal((await app.inject({ url: `/api/orders/${order.id}` })).json().status, 'pending')
    const { rows } = await db.query(`SELECT status, failure_reason IS NOT NULL AS has_reason FROM ${db.table('payments')} WHERE order_id = $1`, [order.id])
    t.same(rows, [{ status: 'failed', has_reason: true }], 'the failed attempt is recorded')

    const cancel = await app.inject({ method: 'POST', url: `/api/orders/${order.id}/cancel` })
    t.equal(cancel.statusCode, 200, 'a pending order can be cancelled')
    t.match(cancel.json(), { id: order.id, status: 'cancelled', cancelledAt: String })
    const twice = await app.inject({ method: 'POST', url: `/api/orders/${order.id}/cancel` })
    t.equal(twice.statusCode, 409)
    t.match(twice.json(), { message: `order ${order.id} is cancelled and cannot be cancelled` })
    const pay = await app.inject({ method: 'POST', url: `/api/orders/${order.id}/checkout` })
    t.equal(pay.statusCode, 409, 'a cancelled order cannot be checked out')
    const missing = await app.inject({ method: 'POST', url: `/api/orders/${randomUUID()}/cancel` })
    t.equal(missing.statusCode, 404)
  })

  t.test(`${target.name}: checkout edge cases: invalid cart (422), cancelled while charging (409)`, async (t) => {
    const db = await testDatabase(t, target)
    let cancelDuringCharge = false
    const provider: PaymentProvider = {
      name: 'test',
      async charge (request) {
        // The customer cancels while the provider is still charging.
        if (cancelDuringCharge) await db.query(`UPDATE ${db.table('orders')} SET status = 'cancelled' WHERE id = $1`, [request.orderId])
        return { ok: true, providerRef: 'ref-1', latencyMs: 0 }
      }
    }
    const app = await buildApp({ db, payment: provider, logger: { level: 'silent' } })
    t.teardown(() => app.close())
    const free = (await app.inject({ method: 'POST', url: '/api/orders', payload: { customerId: 'c', currency: 'EUR', items: [{ sku: 'FREE-1', quantity: 1, unitPriceCents: 0 }] } })).json()
    const zero = await app.inject({ method: 'POST', url: `/api/orders/${free.id}/checkout` })
    t.equal(zero.statusCode, 422)
    t.match(zero.json(), { code: 'CART_INVALID', message: `order ${free.id} cannot be checked out: the total is zero` })

    const tampered = (await app.inject({ method: 'POST', url: '/api/orders', payload: sampleOrder() })).json()
    await db.query(`UPDATE ${db.table('orders')} SET total_cents = 1 WHERE id = $1`, [tampered.id])
    const mismatch = await app.inject({ method: 'POST', url: `/api/orders/${tampered.id}/checkout` })
    t.equal(mismatch.statusCode, 422)
    t.match(mismatch.json(), { message: /the total does not match the items/ })

    const empty = (await app.inject({ method: 'POST', url: '/api/orders', payload: sampleOrder() })).json()
    await db.query(`DELETE FROM ${db.table('order_items')} WHERE order_id = $1`, [empty.id])
    t.match((await app.inject({ method: 'POST', url: `/api/orders/${empty.id}/checkout` })).json(), { statusCode: 422, message: /the cart is empty/ })

    const raced = (await app.inject({ method: 'POST', url: '/api/orders', payload: sampleOrder() })).json()
    cancelDuringCharge = true
    const res = await app.inject({ method: 'POST', url: `/api/orders/${raced.id}/checkout` })
    t.equal(res.statusCode, 409)
    t.match(res.json(), { code: 'ORDER_NOT_PAYABLE', message: `order ${raced.id} is cancelled and cannot be checked out` })
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM ${db.table('payments')} WHERE order_id = $1`, [raced.id])
    t.same(rows, [{ n: 0 }], 'no payment recorded for an order that was not marked paid')
  })

  t.test(`${target.name}: health and readiness`, async (t) => {
    const { app } = await makeApp(t, target)
    const health = await app.inject({ url: '/api/health' })
    t.equal(health.statusCode, 200)
    t.same(health.json(), { status: 'ok' })
    const ready = await app.inject({ url: '/api/ready' })
    t.equal(ready.statusCode, 200)
    t.same(ready.json(), { status: 'ready', checks: { database: 'up' } })
  })
}
