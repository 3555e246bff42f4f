// Names a user, a dashboard or an alert sees. Defined once here and documented in the README.

export const SERVICE_NAME = 'order-service'

export const ROUTES = {
  orders: '/api/orders',
  order: '/api/orders/:id',
  checkout: '/api/orders/:id/checkout',
  cancel: '/api/orders/:id/cancel',
  health: '/api/health',
  ready: '/api/ready',
  metrics: '/metrics'
} as const

export const METRICS = {
  ordersCreated: 'orders_created_total',
  paymentsProcessed: 'payments_processed_total',
  orderValue: 'order_value_cents',
  paymentFailures: 'payment_failures_total'
} as const

/**
 * Values of the `reason` label of `payment_failures_total`: the provider's decline reasons in
 * snake case; any reason not listed here is counted as `other`, so the label set stays bounded.
 */
export const PAYMENT_FAILURE_REASONS = ['card_declined', 'insufficient_funds', 'provider_timeout'] as const
export const PAYMENT_FAILURE_OTHER = 'other'

export const PAYMENT_STATUS = { succeeded: 'succeeded', failed: 'failed' } as const

/** Buckets of `order_value_cents`: 1 unit of currency to 10 000 units. */
export const ORDER_VALUE_BUCKETS = [100, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000]

export const SPANS = {
  checkoutFlow: 'checkout_flow',
  validateCart: 'validate_cart',
  processPayment: 'process_payment'
} as const

export const SPAN_ATTRIBUTES = {
  orderId: 'order.id',
  orderStatus: 'order.status',
  orderCurrency: 'order.currency',
  orderTotalCents: 'order.total_cents',
  orderItemCount: 'order.item_count',
  paymentId: 'payment.id',
  paymentStatus: 'payment.status',
  paymentProvider: 'payment.provider'
} as const

export const SPAN_EVENTS = {
  cartValidated: 'cart.validated',
  paymentRequested: 'payment.requested',
  paymentAuthorized: 'payment.authorized',
  paymentDeclined: 'payment.declined'
} as const

export const ORDER_STATUS = { pending: 'pending', paid: 'paid', cancelled: 'cancelled' } as const
export type OrderStatus = (typeof ORDER_STATUS)[keyof typeof ORDER_STATUS]

export const CURRENCIES = ['EUR', 'USD', 'GBP'] as const
export type Currency = (typeof CURRENCIES)[number]

export const PAGE_LIMIT_DEFAULT = 20
export const PAGE_LIMIT_MAX = 100
export const MAX_ITEMS_PER_ORDER = 50

export const ENV = {
  port: 'PORT',
  host: 'HOST',
  databaseUrl: 'DATABASE_URL',
  dataDir: 'O11Y_DATA_DIR',
  dbSchema: 'DB_SCHEMA',
  dbPoolMax: 'DB_POOL_MAX',
  dbConnectTimeout: 'DB_CONNECT_TIMEOUT_MS',
  dbStatementTimeout: 'DB_STATEMENT_TIMEOUT_MS',
  paymentLatency: 'PAYMENT_LATENCY_MS',
  paymentFailureRate: 'PAYMENT_FAILURE_RATE',
  shutdownGrace: 'SHUTDOWN_GRACE_MS',
  logLevel: 'LOG_LEVEL',
  metricsPort: 'METRICS_PORT',
  metricsHost: 'METRICS_HOST',
  metricsToken: 'METRICS_TOKEN',
  metricsTokenFile: 'METRICS_TOKEN_FILE',
  metricsMinInterval: 'METRICS_MIN_INTERVAL_MS',
  workers: 'WORKERS'
} as const

/** Relative to the app folder (apps/order-service). */
export const DEFAULT_DATA_DIR = '.o11y-data/pglite'
