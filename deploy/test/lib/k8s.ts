import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import YAML from 'yaml'
import { hasTool } from '@o11y/test-utils'
import { DEPLOY } from './repo'

export const K8S_DIR = join(DEPLOY, 'k8s')
export const OVERLAYS = ['dev', 'prod'] as const
export const COLLECTOR_DIR = join(DEPLOY, 'otel-collector')
export const COLLECTOR_CONFIG = join(COLLECTOR_DIR, 'config.yaml')
export const COLLECTOR_COMPONENTS = join(COLLECTOR_DIR, 'components.yaml')
export const JAEGER_CONFIG = join(K8S_DIR, 'base', 'jaeger', 'config.yaml')

/** Debian's package; these machines may already have a kubectl from another package. */
export const KUBECTL_INSTALL_HINT = 'apt-get install kubernetes-client'
/** The overlays use kustomize 5 fields (labels, replicas, inline patches): kubectl 1.27 or later. */
export const MIN_KUSTOMIZE_MAJOR = 5

/** The kustomize version built into kubectl (`Kustomize Version: v5.5.0`, printed since kubectl 1.24). */
export function kustomizeVersion (): string | undefined {
  const res = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8', timeout: 30_000 })
  return /Kustomize Version:\s*v?(\d+\.\d+\.\d+)/.exec(`${res.stdout ?? ''}${res.stderr ?? ''}`)?.[1]
}

/**
 * Like requireTool of @o11y/test-utils, for kubectl with a kustomize new enough for the overlays:
 * outside CI a missing or old kubectl skips with one line naming the fix; in CI the test runs and
 * fails (kustomize reports what it cannot build).
 */
let kubectlSkip: { skip: false | string } | undefined
export function requireKubectl (): { skip: false | string } {
  kubectlSkip ??= kubectlRequirement()
  return kubectlSkip
}

function kubectlRequirement (): { skip: false | string } {
  if (process.env.CI) return { skip: false }
  if (!hasTool('kubectl')) return { skip: `kubectl not on PATH: install it with \`${KUBECTL_INSTALL_HINT}\`` }
  const version = kustomizeVersion()
  if (!version || Number(version.split('.')[0]) < MIN_KUSTOMIZE_MAJOR) {
    return { skip: `kubectl's kustomize ${version ?? '(older than kubectl 1.24)'} cannot build the overlays: install kubectl 1.27 or later (kustomize ${MIN_KUSTOMIZE_MAJOR})` }
  }
  return { skip: false }
}

export interface K8sObject {
  apiVersion: string
  kind: string
  metadata: { name: string, namespace?: string, labels?: Record<string, string>, annotations?: Record<string, string> }
  spec?: any
  data?: Record<string, string>
  [key: string]: unknown
}

export interface Build { status: number | null, stderr: string, objects: K8sObject[] }

/** `kubectl kustomize` with kustomize's default load restrictor (files only from inside each kustomization). */
export function kustomize (dir: string): Build {
  const res = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 })
  if (res.error) return { status: null, stderr: `kubectl: ${res.error.message}`, objects: [] }
  const objects = res.status === 0
    ? YAML.parseAllDocuments(res.stdout).map((d) => d.toJS() as K8sObject).filter(Boolean)
    : []
  return { status: res.status, stderr: res.stderr, objects }
}

export function find (objects: K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && (o.metadata.name === name || o.metadata.name.startsWith(`${name}-`)))
}

export function must (objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = find(objects, kind, name)
  if (!o) throw new Error(`no ${kind} ${name} in the build`)
  return o
}

/** The model class of @kubernetes-models/* for each apiVersion/kind the overlays produce. */
const MODELS: Record<string, () => Promise<new (data: any) => { validate: () => void }>> = {
  'v1/ConfigMap': async () => (await import('kubernetes-models/v1/ConfigMap')).ConfigMap,
  'v1/Service': async () => (await import('kubernetes-models/v1/Service')).Service,
  'v1/Secret': async () => (await import('kubernetes-models/v1/Secret')).Secret,
  'apps/v1/Deployment': async () => (await import('kubernetes-models/apps/v1/Deployment')).Deployment,
  'apps/v1/StatefulSet': async () => (await import('kubernetes-models/apps/v1/StatefulSet')).StatefulSet,
  'policy/v1/PodDisruptionBudget': async () => (await import('kubernetes-models/policy/v1/PodDisruptionBudget')).PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': async () =>
    (await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor')).ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': async () =>
    (await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule')).PrometheusRule
}

const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

/**
 * Validates one object against its schema; returns the problems (empty when valid). An
 * apiVersion/kind without a model is a problem, never a silent pass.
 */
export async function validateObject (o: K8sObject): Promise<string[]> {
  const id = `${o.kind} ${o.metadata?.name}`
  const load = MODELS[`${o.apiVersion}/${o.kind}`]
  if (!load) return [`${id}: no schema for ${o.apiVersion} ${o.kind}`]
  const problems: string[] = []
  try {
    const Model = await load()
    new Model(o).validate()
  } catch (err) {
    problems.push(`${id}: ${(err as Error).message}`)
  }
  // The generated schemas leave metadata free-form: check what the API server would.
  if (!DNS_1123_SUBDOMAIN.test(o.metadata?.name ?? '') || (o.metadata?.name ?? '').length > 253) problems.push(`${id}: invalid name`)
  for (const [k, v] of Object.entries(o.metadata?.labels ?? {})) {
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) problems.push(`${id}: label ${k}=${String(v)} is not a valid label value`)
  }
  return problems
}

export function readText (file: string): string {
  return readFileSync(file, 'utf8')
}
