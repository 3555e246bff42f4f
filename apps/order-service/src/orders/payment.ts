import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'

export interface ChargeRequest {
  orderId: string
  amountCents: number
  currency: string
}

export type ChargeResult =
  | { ok: true, providerRef: string, latencyMs: number }
  | { ok: false, reason: string, latencyMs: number }

export interface PaymentProvider {
  readonly name: string
  charge (request: ChargeRequest): Promise<ChargeResult>
}

export interface SimulatedProviderOptions {
  /** Mean latency of a charge; each charge waits between 0.5x and 1.5x of it. */
  latencyMs: number
  /** Share of charges that fail, 0..1. */
  failureRate: number
  /** Source of randomness, [0, 1). */
  random?: () => number
}

const DECLINE_REASONS = ['card declined', 'insufficient funds', 'provider timeout']

/** A stand-in for a payment provider: latency and failures on demand, to produce slow and failing requests. */
export function createSimulatedProvider (options: SimulatedProviderOptions): PaymentProvider {
  const random = options.random ?? Math.random
  return {
    name: 'simulated',
    async charge () {
      const latencyMs = Math.round(options.latencyMs * (0.5 + random()))
      if (latencyMs > 0) await sleep(latencyMs)
      if (options.failureRate > 0 && random() < options.failureRate) {
        const reason = DECLINE_REASONS[Math.floor(random() * DECLINE_REASONS.length)] ?? 'card declined'
        return { ok: false, reason, latencyMs }
      }
      return { ok: true, providerRef: `sim_${randomUUID()}`, latencyMs }
    }
  }
}
