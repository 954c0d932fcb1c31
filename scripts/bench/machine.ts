/**
 * Where the CPU went during a run. The machine's CPUs are shared with whatever else runs there
 * (other people's builds and tests), which shows up in every latency, so each run records:
 *
 * busy       share of all CPUs' time not idle, machine-wide (/proc/stat)
 * others     share of all CPUs' time NOT used by the bench's own process tree
 * components CPU milliseconds used by each part of the bench's tree: workerd (the app),
 *            postgres, pgbouncer, the relay, wrangler (its Node/esbuild side), bench (this process: load
 *            generator and Node baselines). Times of exited children (PostgreSQL's per-connection
 *            backends) are counted through their parent (cutime/cstime).
 * Linux only (/proc); elsewhere the meter reports nulls.
 */
import { readdirSync, readFileSync } from 'node:fs'

type Sample = { total: number; idle: number; mine: number; components: Record<string, number> }
const TICK_MS = 10 // USER_HZ is 100 on Linux

function component(pid: number, comm: string): string {
  if (pid === process.pid) return 'bench'
  if (comm === 'workerd') return 'workerd'
  if (comm === 'postgres') return 'postgres'
  if (comm === 'pgbouncer') return 'pgbouncer'
  if (comm === 'esbuild') return 'wrangler'
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    if (cmdline.includes('relay-process')) return 'relay'
    if (cmdline.includes('wrangler')) return 'wrangler'
  } catch {}
  return 'other'
}

function sample(): Sample | null {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0)
    const total = cpu.reduce((a, b) => a + b, 0)
    const procs = new Map<number, { ppid: number; ticks: number; comm: string }>()
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        // After the command: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
        procs.set(Number(pid), { ppid: Number(fields[1]), comm, ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]) })
      } catch {}
    }
    const isMine = (pid: number) => {
      for (let p = pid, hops = 0; p > 1 && hops < 64; p = procs.get(p)?.ppid ?? 0, hops++) if (p === process.pid) return true
      return false
    }
    let mine = 0
    const components: Record<string, number> = {}
    for (const [pid, info] of procs) {
      if (!isMine(pid)) continue
      mine += info.ticks
      const name = component(pid, info.comm)
      components[name] = (components[name] ?? 0) + info.ticks
    }
    return { total, idle, mine, components }
  } catch {
    return null
  }
}

export type MachineLoad = { busy: number | null; others: number | null; cpuMs?: Record<string, number> }

export function machineMeter(): () => MachineLoad {
  const start = sample()
  return () => {
    const end = sample()
    if (!start || !end || end.total <= start.total) return { busy: null, others: null }
    const total = end.total - start.total
    const busy = (total - (end.idle - start.idle)) / total
    const others = Math.max(0, busy - (end.mine - start.mine) / total)
    const cpuMs: Record<string, number> = {}
    for (const [name, ticks] of Object.entries(end.components)) {
      const used = (ticks - (start.components[name] ?? 0)) * TICK_MS
      if (used > 0) cpuMs[name] = used
    }
    return { busy: Math.round(busy * 100) / 100, others: Math.round(others * 100) / 100, cpuMs }
  }
}

export function cpuPressure(): string | null {
  try {
    return readFileSync('/proc/pressure/cpu', 'utf8').split('\n')[0] ?? null
  } catch {
    return null
  }
}
