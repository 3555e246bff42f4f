import type { TracingHandle } from './types'

/** One running tracing per process, found through a global symbol (also by other copies of this package). */
const kActive = Symbol.for('o11y.tracing.active')
type GlobalWithHandle = typeof globalThis & { [kActive]?: TracingHandle }

/** The handle of the tracing started by `startTracing` or the register entry, if any. */
export function getActiveTracing (): TracingHandle | undefined {
  return (globalThis as GlobalWithHandle)[kActive]
}

/** Make `handle` the active tracing (or clear it). */
export function setActiveTracing (handle: TracingHandle | undefined): void {
  if (handle === undefined) delete (globalThis as GlobalWithHandle)[kActive]
  else (globalThis as GlobalWithHandle)[kActive] = handle
}
