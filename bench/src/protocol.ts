/** Messages between the runner and a scenario server (Node IPC channel). */
export type ToServer =
  | { type: 'gc' }
  | { type: 'stats' }
  | { type: 'stop' }

export type FromServer =
  | { type: 'ready', port: number, pid: number }
  | { type: 'heap', heapUsed: number, rss: number }
  | { type: 'stats', stats: Record<string, number> }
  | { type: 'stopped' }
  | { type: 'error', message: string }

/** Environment variable: number of extra `/api/r<i>/:id` routes (scrape measurement). */
export const EXTRA_ROUTES_ENV = 'BENCH_EXTRA_ROUTES'
