/**
 * `node --import @o11y/tracing/register app.js` (ESM) or `node --require @o11y/tracing/register app.js`
 * (CommonJS): start tracing from the OTEL_* variables before the application's modules load.
 */
import { register } from 'node:module'
import { pathToFileURL } from 'node:url'
import { isMainThread } from 'node:worker_threads'
import { startTracing } from './sdk'

// Node 20 runs --require preloads again inside the loader-hooks thread (and user workers): tracing
// and the loader hook belong to the main thread only, once.
if (isMainThread) start()

function start (): void {
  // ESM imports are only visible to instrumentations through import-in-the-middle's loader hook.
  // It must be resolved from this package (which depends on @opentelemetry/instrumentation), and
  // it only wraps the modules we instrument, so the rest of the application loads untouched.
  if (typeof register === 'function') {
    try {
      register('@opentelemetry/instrumentation/hook.mjs', pathToFileURL(__filename), {
        data: { include: ['pg', 'pg-pool', 'http', 'https', 'node:http', 'node:https'] }
      })
    } catch (err) {
      process.emitWarning(`@o11y/tracing: ESM loader hook not registered (${(err as Error).message}); ESM imports of pg and http are not instrumented`, { type: 'O11yTracingWarning' })
    }
  }

  const handle = startTracing()

  // A script that ends by itself still exports what it traced. (No signal handlers here: adding
  // one would stop Node from exiting on SIGTERM; Fastify apps flush in onClose.)
  process.once('beforeExit', () => { void handle.shutdown() })
}
