/**
 * One scenario server: `node --expose-gc dist/server.js <scenario>`, started by the runner with
 * an IPC channel. Nothing here loads http or fastify before the scenario module has set up its
 * instrumentation. Messages: see protocol.ts.
 */
import { getScenario } from './scenarios'
import { EXTRA_ROUTES_ENV, type FromServer, type ToServer } from './protocol'
import type { BuildApp, BuiltApp } from './apps/types'

function send (message: FromServer): void {
  if (process.send !== undefined) process.send(message)
}

function collect (): number {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('@o11y/bench: the server needs --expose-gc')
  // Twice: the first pass may leave objects that only became unreachable through finalizers.
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

async function main (): Promise<void> {
  const id = process.argv[2] ?? ''
  const scenario = getScenario(id)
  if (scenario.cluster === true && require('node:cluster').isPrimary === true) {
    await (require('./cluster-server') as typeof import('./cluster-server')).runClusterPrimary()
    return
  }
  const extraRoutes = Number(process.env[EXTRA_ROUTES_ENV] ?? '0')
  const { build } = require(`./apps/${scenario.id}`) as { build: BuildApp }
  const built: BuiltApp = await build(extraRoutes)
  await built.app.listen({ port: 0, host: '127.0.0.1' })
  const address = built.app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0

  let stopping = false
  process.on('message', (message: ToServer) => {
    if (message.type === 'gc') {
      const heapUsed = collect()
      send({ type: 'heap', heapUsed, rss: process.memoryUsage.rss() })
    } else if (message.type === 'stats') {
      void (built.stats?.() ?? Promise.resolve({})).then((stats) => send({ type: 'stats', stats }))
    } else if (message.type === 'stop' && !stopping) {
      stopping = true
      void (async () => {
        await built.app.close()
        await built.shutdown?.()
        send({ type: 'stopped' })
        process.disconnect?.()
        // Exit explicitly: some SDK timers or sockets may keep the loop alive; --cpu-prof is
        // written on exit too.
        process.exit(0)
      })()
    }
  })
  process.on('disconnect', () => { if (!stopping) process.exit(0) })
  send({ type: 'ready', port, pid: process.pid })
}

main().catch((err: unknown) => {
  send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) })
  process.exitCode = 1
  setTimeout(() => process.exit(1), 100).unref()
})
