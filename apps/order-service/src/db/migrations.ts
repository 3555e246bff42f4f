/**
 * Schema migrations, applied in order at start-up. Each runs once per schema (recorded in
 * `schema_migrations`); `{{schema}}` is replaced by the quoted schema name. Never edit a shipped
 * migration: add a new one.
 */
export interface Migration {
  id: string
  sql: string
}

export const MIGRATIONS: readonly Migration[] = [
  {
    id: '001_orders',
    sql: `
CREATE TABLE {{schema}}.orders (
  seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  id           uuid PRIMARY KEY,
  customer_id  text NOT NULL,
  status       text NOT NULL CHECK (status IN ('pending', 'paid', 'cancelled')),
  currency     char(3) NOT NULL,
  total_cents  bigint NOT NULL CHECK (total_cents >= 0),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  paid_at      timestamptz,
  cancelled_at timestamptz
);
CREATE INDEX orders_customer_seq_idx ON {{schema}}.orders (customer_id, seq DESC);
CREATE TABLE {{schema}}.order_items (
  order_id         uuid NOT NULL REFERENCES {{schema}}.orders (id) ON DELETE CASCADE,
  line_no          integer NOT NULL,
  sku              text NOT NULL,
  quantity         integer NOT NULL CHECK (quantity > 0),
  unit_price_cents bigint NOT NULL CHECK (unit_price_cents >= 0),
  PRIMARY KEY (order_id, line_no)
);`
  },
  {
    id: '002_payments',
    sql: `
CREATE TABLE {{schema}}.payments (
  id             uuid PRIMARY KEY,
  order_id       uuid NOT NULL REFERENCES {{schema}}.orders (id) ON DELETE CASCADE,
  status         text NOT NULL CHECK (status IN ('succeeded', 'failed')),
  amount_cents   bigint NOT NULL,
  currency       char(3) NOT NULL,
  provider_ref   text,
  failure_reason text,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_order_idx ON {{schema}}.payments (order_id);`
  }
]
