import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, startProcess, waitUntilReady } from '@o11y/test-utils'

export interface RegistryOptions {
  /** Folder for config, storage and htpasswd; the caller creates and removes it. */
  dir: string
  /** Registry that packages outside the @o11y scope are proxied to (an uplink). */
  uplink: string
  /** Scope served from local storage only, never proxied. */
  scope?: string
  /**
   * CA bundle for the uplink's TLS (NODE_EXTRA_CA_CERTS of the Verdaccio process): machines behind
   * a TLS-inspecting proxy give npm a `cafile`, which Node itself does not read.
   */
  caFile?: string
  /** How long to wait for the registry to answer /-/ping. */
  startTimeoutMs?: number
}

export interface Registry {
  /** Base URL with a trailing slash, e.g. http://127.0.0.1:40123/ */
  url: string
  /** Folder the packages are stored in (`<storage>/@o11y/metrics/...`). */
  storage: string
  /** Everything Verdaccio wrote to stdout and stderr so far (for failure messages). */
  logs: () => string
  /** Creates a user through the registry API and returns its bearer token. */
  addUser: (name: string, password: string) => Promise<string>
  /** Stops the registry and waits for the process to exit; safe to call twice. */
  stop: () => Promise<void>
}

const VERDACCIO_BIN = require.resolve('verdaccio/bin/verdaccio')

export function verdaccioConfig (storage: string, htpasswd: string, uplink: string, scope: string): string {
  // The scope has no `proxy:` line: @o11y packages come from local storage only, so an install
  // can never pick up a same-named package from the public registry.
  return [
    `storage: ${JSON.stringify(storage)}`,
    'auth:',
    '  htpasswd:',
    `    file: ${JSON.stringify(htpasswd)}`,
    '    max_users: 100',
    'uplinks:',
    '  upstream:',
    `    url: ${JSON.stringify(uplink)}`,
    '    timeout: 60s',
    '    max_fails: 5',
    'packages:',
    `  '${scope}/*':`,
    '    access: $all',
    '    publish: $authenticated',
    '    unpublish: $authenticated',
    "  '**':",
    '    access: $all',
    '    publish: $authenticated',
    '    proxy: upstream',
    'middlewares:',
    '  audit:',
    '    enabled: false',
    'web:',
    '  enable: false',
    'log: { type: stdout, format: json, level: warn }',
    ''
  ].join('\n')
}

export async function startVerdaccio (options: RegistryOptions): Promise<Registry> {
  const scope = options.scope ?? '@o11y'
  const storage = join(options.dir, 'storage')
  mkdirSync(storage, { recursive: true })
  const configFile = join(options.dir, 'config.yaml')
  writeFileSync(configFile, verdaccioConfig(storage, join(options.dir, 'htpasswd'), options.uplink, scope))

  const port = await freePort()
  const url = `http://127.0.0.1:${port}/`
  // Own process group, so stop() also ends anything Verdaccio might have forked; killed with the
  // test process if that exits without stopping it (a crash, a runner timeout).
  const registry = startProcess(process.execPath, [VERDACCIO_BIN, '--config', configFile, '--listen', `127.0.0.1:${port}`], {
    cwd: options.dir,
    group: true,
    killOnExit: true,
    env: { ...cleanEnv(process.env), NODE_OPTIONS: '', ...(options.caFile ? { NODE_EXTRA_CA_CERTS: options.caFile } : {}) }
  })
  const stop = async (): Promise<void> => { await registry.stop() }
  const timeoutMs = options.startTimeoutMs ?? 30_000
  try {
    await waitUntilReady(registry, async () => (await fetch(new URL('-/ping', url)).catch(() => undefined))?.ok === true,
      { timeoutMs, intervalMs: 200, what: `verdaccio on ${url}` })
  } catch (err) {
    await stop()
    throw err
  }

  const addUser = async (name: string, password: string): Promise<string> => {
    // What `npm adduser` does, without its prompts (CouchDB-style user document).
    const res = await fetch(new URL(`-/user/org.couchdb.user:${encodeURIComponent(name)}`, url), {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ _id: `org.couchdb.user:${name}`, name, password, type: 'user', roles: [], date: new Date().toISOString() })
    })
    const body = await res.json() as { token?: string, error?: string }
    if (!res.ok || !body.token) throw new Error(`creating user ${name} on ${url} failed: ${res.status} ${JSON.stringify(body)}`)
    return body.token
  }

  return { url, storage, logs: registry.output, addUser, stop }
}

/**
 * The environment without what the test runner and pnpm put there: tap's loader and coverage
 * (NODE_OPTIONS, NODE_V8_COVERAGE, TAP*), and pnpm's npm_config_* / npm_package_* variables, which
 * would override the .npmrc files the release and the consumer are meant to be configured by.
 */
export function cleanEnv (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(env)) {
    const k = key.toLowerCase()
    if (k.startsWith('npm_') || k.startsWith('pnpm_') || k.startsWith('tap') || k.startsWith('_tapjs') ||
        k === 'node_options' || k === 'node_v8_coverage' || k === 'init_cwd' || k.startsWith('turbo_')) continue
    out[key] = value
  }
  return out
}
