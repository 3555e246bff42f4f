import { CURRENCIES, MAX_ITEMS_PER_ORDER, ORDER_STATUS, PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX } from '../constants.js'

// Unknown fields are rejected (additionalProperties: false with Ajv's removeAdditional turned off in app.ts):
// a client that misspells a field learns it at once instead of having it silently dropped.

export const orderIdParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', format: 'uuid' } }
} as const

const item = {
  type: 'object',
  additionalProperties: false,
  required: ['sku', 'quantity', 'unitPriceCents'],
  properties: {
    sku: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' },
    quantity: { type: 'integer', minimum: 1, maximum: 1000 },
    unitPriceCents: { type: 'integer', minimum: 0, maximum: 100_000_000 }
  }
} as const

export const createOrderBody = {
  type: 'object',
  additionalProperties: false,
  required: ['customerId', 'currency', 'items'],
  properties: {
    customerId: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' },
    currency: { type: 'string', enum: [...CURRENCIES] },
    items: { type: 'array', minItems: 1, maxItems: MAX_ITEMS_PER_ORDER, items: item }
  }
} as const

export const listOrdersQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    customerId: { type: 'string', minLength: 1, maxLength: 64 },
    limit: { type: 'integer', minimum: 1, maximum: PAGE_LIMIT_MAX, default: PAGE_LIMIT_DEFAULT },
    cursor: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }
  }
} as const

const order = {
  type: 'object',
  required: ['id', 'customerId', 'status', 'currency', 'totalCents', 'items', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    customerId: { type: 'string' },
    status: { type: 'string', enum: Object.values(ORDER_STATUS) },
    currency: { type: 'string' },
    totalCents: { type: 'integer' },
    items: { type: 'array', items: { type: 'object', properties: item.properties } },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    paidAt: { type: ['string', 'null'], format: 'date-time' },
    cancelledAt: { type: ['string', 'null'], format: 'date-time' }
  }
} as const

const error = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    code: { type: 'string' },
    message: { type: 'string' }
  }
} as const

export const orderResponse = { 200: order, 201: order, '4xx': error, '5xx': error } as const

export const orderPageResponse = {
  200: {
    type: 'object',
    required: ['orders'],
    properties: {
      orders: { type: 'array', items: order },
      nextCursor: { type: 'string' }
    }
  },
  '4xx': error,
  '5xx': error
} as const

export const checkoutResponse = {
  200: {
    type: 'object',
    properties: {
      order,
      payment: {
        type: 'object',
        properties: { id: { type: 'string' }, status: { type: 'string' }, providerRef: { type: 'string' } }
      }
    }
  },
  '4xx': error,
  '5xx': error
} as const
