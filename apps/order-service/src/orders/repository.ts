import { randomUUID } from 'node:crypto'
import type { Currency, OrderStatus } from '../constants.js'
import type { Database, Queryable } from '../db/database.js'

export interface OrderItem {
  sku: string
  quantity: number
  unitPriceCents: number
}

export interface NewOrder {
  customerId: string
  currency: Currency
  items: OrderItem[]
}

export interface Order {
  id: string
  customerId: string
  status: OrderStatus
  currency: Currency
  totalCents: number
  items: OrderItem[]
  createdAt: Date
  updatedAt: Date
  paidAt: Date | null
  cancelledAt: Date | null
}

export interface PaymentRecord {
  id: string
  orderId: string
  status: 'succeeded' | 'failed'
  amountCents: number
  currency: string
  providerRef?: string
  failureReason?: string
}

export interface OrderPage {
  orders: Order[]
  /** Sequence number to continue after, absent on the last page. */
  nextSeq?: string
}

interface OrderRow {
  seq: string
  id: string
  customer_id: string
  status: OrderStatus
  currency: Currency
  total_cents: string
  items: Array<{ sku: string, quantity: number, unitPriceCents: number | string }>
  created_at: Date
  updated_at: Date
  paid_at: Date | null
  cancelled_at: Date | null
}

function toOrder (row: OrderRow): Order {
  return {
    id: row.id,
    customerId: row.customer_id,
    status: row.status,
    currency: row.currency,
    totalCents: Number(row.total_cents),
    items: row.items.map((i) => ({ sku: i.sku, quantity: i.quantity, unitPriceCents: Number(i.unitPriceCents) })),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    paidAt: row.paid_at,
    cancelledAt: row.cancelled_at
  }
}

export type OrderRepository = ReturnType<typeof createOrderRepository>

/** SQL of the order domain. Statements are built once, with schema-qualified table names. */
export function createOrderRepository (db: Database) {
  const orders = db.table('orders')
  const items = db.table('order_items')
  const payments = db.table('payments')

  const selectOrders = (where: string, tail = ''): string => `
SELECT o.seq, o.id, o.customer_id, o.status, o.currency, o.total_cents, o.created_at, o.updated_at, o.paid_at, o.cancelled_at,
       COALESCE(json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity, 'unitPriceCents', i.unit_price_cents) ORDER BY i.line_no)
                FILTER (WHERE i.order_id IS NOT NULL), '[]'::json) AS items
  FROM ${orders} o LEFT JOIN ${items} i ON i.order_id = o.id
 WHERE ${where}
 GROUP BY o.id ${tail}`
  const getSql = selectOrders('o.id = $1')
  const listSql = selectOrders('($1::text IS NULL OR o.customer_id = $1) AND ($2::bigint IS NULL OR o.seq < $2)', 'ORDER BY o.seq DESC LIMIT $3')
  const insertPayment = `INSERT INTO ${payments} (id, order_id, status, amount_cents, currency, provider_ref, failure_reason) VALUES ($1, $2, $3, $4, $5, $6, $7)`

  async function getWith (q: Queryable, id: string): Promise<Order | undefined> {
    const { rows } = await q.query<OrderRow>(getSql, [id])
    return rows[0] && toOrder(rows[0])
  }

  function paymentValues (p: PaymentRecord): unknown[] {
    return [p.id, p.orderId, p.status, p.amountCents, p.currency, p.providerRef ?? null, p.failureReason ?? null]
  }

  return {
    /** Inserts the order and its items in one transaction. */
    create (input: NewOrder): Promise<Order> {
      const id = randomUUID()
      const total = input.items.reduce((sum, i) => sum + i.quantity * i.unitPriceCents, 0)
      return db.transaction(async (client) => {
        await client.query(`INSERT INTO ${orders} (id, customer_id, status, currency, total_cents) VALUES ($1, $2, 'pending', $3, $4)`,
          [id, input.customerId, input.currency, total])
        const values: unknown[] = [id]
        const tuples = input.items.map((item, n) => {
          values.push(n + 1, item.sku, item.quantity, item.unitPriceCents)
          const b = n * 4 + 2
          return `($1, $${b}, $${b + 1}, $${b + 2}, $${b + 3})`
        })
        await client.query(`INSERT INTO ${items} (order_id, line_no, sku, quantity, unit_price_cents) VALUES ${tuples.join(', ')}`, values)
        return (await getWith(client, id)) as Order
      })
    },

    async get (id: string): Promise<Order | undefined> {
      return getWith(db, id)
    },

    /** Newest first; keyset pagination on the insertion sequence. */
    async list (filter: { customerId?: string, afterSeq?: string, limit: number }): Promise<OrderPage> {
      const { rows } = await db.query<OrderRow>(listSql, [filter.customerId ?? null, filter.afterSeq ?? null, filter.limit + 1])
      const page = rows.slice(0, filter.limit)
      const last = page[page.length - 1]
      return { orders: page.map(toOrder), ...(rows.length > filter.limit && last ? { nextSeq: last.seq } : {}) }
    },

    /** pending -> paid, with the payment, in one transaction; undefined when no longer pending. */
    markPaid (payment: PaymentRecord): Promise<Order | undefined> {
      return db.transaction(async (client) => {
        const { rowCount } = await client.query(
          `UPDATE ${orders} SET status = 'paid', paid_at = now(), updated_at = now() WHERE id = $1 AND status = 'pending'`, [payment.orderId])
        if (rowCount !== 1) return undefined
        await client.query(insertPayment, paymentValues(payment))
        return getWith(client, payment.orderId)
      })
    },

    async recordPayment (payment: PaymentRecord): Promise<void> {
      await db.query(insertPayment, paymentValues(payment))
    },

    /** pending -> cancelled; returns the order (changed or not) or undefined when absent. */
    async cancel (id: string): Promise<{ order: Order | undefined, cancelled: boolean }> {
      const { rowCount } = await db.query(
        `UPDATE ${orders} SET status = 'cancelled', cancelled_at = now(), updated_at = now() WHERE id = $1 AND status = 'pending'`, [id])
      return { order: await getWith(db, id), cancelled: rowCount === 1 }
    }
  }
}
