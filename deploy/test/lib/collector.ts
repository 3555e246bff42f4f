/** Checks an OpenTelemetry Collector config against the component list of one distribution version. */

export const KINDS = ['receivers', 'processors', 'exporters', 'extensions', 'connectors'] as const
export type Kind = typeof KINDS[number]

export interface ComponentList {
  version: string
  image: string
  types: Partial<Record<Kind, Record<string, string>>>
  deprecated_types?: Partial<Record<Kind, Record<string, string>>>
  modules: Partial<Record<Kind, string[]>>
}

export interface CollectorConfig {
  receivers?: Record<string, unknown>
  processors?: Record<string, unknown>
  exporters?: Record<string, unknown>
  extensions?: Record<string, unknown>
  connectors?: Record<string, unknown>
  service?: {
    extensions?: string[]
    pipelines?: Record<string, { receivers?: string[], processors?: string[], exporters?: string[] }>
  }
}

/** `otlp_grpc/jaeger` -> `otlp_grpc`: a component id is `type[/name]`. */
export const componentType = (id: string): string => id.split('/')[0] ?? id

/**
 * Every problem of `config` against `list`: a component type the version does not have (or has
 * only under a deprecated alias), a type whose module is not in the version's manifest, a
 * pipeline or service extension naming an undefined component, a defined component no pipeline
 * uses. Empty when the config is sound.
 */
export function checkCollectorConfig (config: CollectorConfig, list: ComponentList): string[] {
  const problems: string[] = []
  const modules = new Set(KINDS.flatMap((k) => (list.modules[k] ?? []).map((m) => m.split(' ')[0])))
  for (const kind of KINDS) {
    for (const id of Object.keys(config[kind] ?? {})) {
      const type = componentType(id)
      const module = list.types[kind]?.[type]
      const replacement = list.deprecated_types?.[kind]?.[type]
      if (replacement) problems.push(`${kind}.${id}: "${type}" is a deprecated alias in ${list.version}, use "${replacement}"`)
      else if (!module) problems.push(`${kind}.${id}: no ${kind.slice(0, -1)} of type "${type}" in contrib ${list.version}`)
      else if (!modules.has(module)) problems.push(`${kind}.${id}: module ${module} is not in the ${list.version} manifest`)
    }
  }
  const used: Record<string, Set<string>> = { receivers: new Set(), processors: new Set(), exporters: new Set() }
  const pipelines = config.service?.pipelines ?? {}
  if (Object.keys(pipelines).length === 0) problems.push('service.pipelines: none')
  for (const [name, pipeline] of Object.entries(pipelines)) {
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      const ids = pipeline[kind] ?? []
      if (kind !== 'processors' && ids.length === 0) problems.push(`pipeline ${name}: no ${kind}`)
      for (const id of ids) {
        used[kind]?.add(id)
        const inConnectors = kind !== 'processors' && id in (config.connectors ?? {})
        if (!(id in (config[kind] ?? {})) && !inConnectors) problems.push(`pipeline ${name}: ${kind.slice(0, -1)} ${id} is not defined`)
      }
    }
  }
  for (const kind of ['receivers', 'processors', 'exporters'] as const) {
    for (const id of Object.keys(config[kind] ?? {})) if (!used[kind]?.has(id)) problems.push(`${kind}.${id}: defined but in no pipeline`)
  }
  for (const id of config.service?.extensions ?? []) {
    if (!(id in (config.extensions ?? {}))) problems.push(`service.extensions: ${id} is not defined`)
  }
  for (const id of Object.keys(config.extensions ?? {})) {
    if (!(config.service?.extensions ?? []).includes(id)) problems.push(`extensions.${id}: defined but not enabled in service.extensions`)
  }
  return problems
}

/** `${env:NAME}` references of a config text. */
export function envReferences (text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}/g)].map((m) => m[1] as string))].sort()
}
