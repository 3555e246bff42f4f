import type { FastifyInstance } from 'fastify'

export const ORDER_PATH = '/api/orders/:id'
export const HEALTH_PATH = '/health'

/** The small JSON document every scenario answers on GET /api/orders/:id. */
export function orderBody (id: string): Record<string, unknown> {
  return { id, status: 'paid', currency: 'EUR', total_cents: 4200, items: [{ sku: 'book-1', quantity: 2 }] }
}

/**
 * The routes every scenario serves, registered after the plugins. `extraRoutes` adds
 * `/api/r<i>/:id` routes, used to grow the number of metric series for the scrape measurement.
 */
export function addRoutes (app: FastifyInstance, extraRoutes = 0): void {
  app.get(ORDER_PATH, async function getOrder (request) {
    return orderBody((request.params as { id: string }).id)
  })
  app.get(HEALTH_PATH, async function health () {
    return { status: 'ok' }
  })
  for (let i = 0; i < extraRoutes; i++) {
    app.get(`/api/r${i}/:id`, async function extraRoute (request) {
      return { route: i, id: (request.params as { id: string }).id }
    })
  }
}
