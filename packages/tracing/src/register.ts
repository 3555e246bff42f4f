/**
 * `node --import @o11y/tracing/register app.js` (ESM) or `node --require @o11y/tracing/register app.js`
 * (CommonJS): start tracing from the OTEL_* variables before the application's modules load.
 */
import * as nodeModule from 'node:module'
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
  try {
    registerEsmHooks(['pg', 'pg-pool', 'http', 'https', 'node:http', 'node:https'])
  } catch (err) {
    process.emitWarning(`@o11y/tracing: ESM loader hook not registered (${(err as Error).message}); ESM imports of pg and http are not instrumented`, { type: 'O11yTracingWarning' })
  }

  const handle = startTracing()

  // A script that ends by itself still exports what it traced. (No signal handlers here: adding
  // one would stop Node from exiting on SIGTERM; Fastify apps flush in onClose.)
  process.once('beforeExit', () => { void handle.shutdown() })
}

/**
 * In-thread synchronous hooks (`module.registerHooks`) where Node runs import-in-the-middle's
 * loader correctly (22.22.3+, 24.11.1+, 26): no loader thread, and no DEP0205 warning, which Node
 * 26 prints for `module.register()`. Older 22.x and 24.x get the asynchronous loader thread.
 */
function registerEsmHooks (include: string[]): void {
  // `node -e` loads builtins through the hooks by bare id, which Node's default loader then fails
  // to read from disk (seen on 24.22 and 26.12): an eval script keeps the loader thread.
  const evalScript = (process as { _eval?: string })._eval !== undefined
  const syncHooks = !evalScript && typeof (nodeModule as { registerHooks?: unknown }).registerHooks === 'function' &&
    (require('import-in-the-middle/supports-sync-hooks.mjs') as { supportsSyncHooks (): boolean }).supportsSyncHooks()
  if (syncHooks) {
    const hooks = require('import-in-the-middle/register-hooks.mjs') as { register (options: { include: string[] }): void }
    hooks.register({ include })
    return
  }
  // Node 26 deprecates module.register (DEP0205); an eval script there keeps require() patching only.
  if (evalScript && Number(process.versions.node.split('.')[0]) >= 26) return
  if (typeof nodeModule.register === 'function') {
    nodeModule.register('@opentelemetry/instrumentation/hook.mjs', pathToFileURL(__filename), { data: { include } })
  }
}
