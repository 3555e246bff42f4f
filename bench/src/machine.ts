import { readFileSync } from 'node:fs'
import { cpus, loadavg, release, totalmem } from 'node:os'

export interface MachineInfo {
  cpuModel: string
  cpus: number
  memoryGiB: number
  kernel: string
  node: string
  date: string
  loadAverage: number[]
}

export function cpuModel (): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))
    if (match !== null) return match[1]!.trim()
  } catch { /* not Linux */ }
  return cpus()[0]?.model ?? 'unknown'
}

export function machineInfo (): MachineInfo {
  return {
    cpuModel: cpuModel(),
    cpus: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    date: new Date().toISOString(),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100)
  }
}
