import type { FastifyInstance } from 'fastify'

export interface BuiltApp {
  app: FastifyInstance
  /** Counters the runner reads at the end (spans exported, ...). */
  stats?: () => Promise<Record<string, number>>
  /** Called after app.close(). */
  shutdown?: () => Promise<void>
}

export type BuildApp = (extraRoutes: number) => Promise<BuiltApp>
