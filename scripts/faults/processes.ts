/**
 * Signals by process id, for the faults the test injects: a server killed outright (SIGKILL),
 * or frozen (SIGSTOP: it still holds its sockets, it just never answers) and thawed (SIGCONT).
 */
import { readdirSync, readFileSync } from 'node:fs'

/** The process and all of its descendants, read from /proc (parents first). */
export function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = readStat(Number(entry))
    if (!stat) continue
    parents.set(stat.ppid, [...(parents.get(stat.ppid) ?? []), Number(entry)])
  }
  const tree = [pid]
  for (let i = 0; i < tree.length; i++) tree.push(...(parents.get(tree[i]!) ?? []))
  return tree
}

/** Alive: neither gone nor a zombie (a zombie holds no socket and no shared memory). */
export function isAlive(pid: number) {
  const stat = readStat(pid)
  return Boolean(stat && stat.state !== 'Z' && stat.state !== 'X')
}

export function signal(pids: number[], name: NodeJS.Signals) {
  for (const pid of pids) {
    try {
      process.kill(pid, name)
    } catch {}
  }
}

export async function waitUntilGone(pids: number[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  while (pids.some(isAlive)) {
    if (Date.now() > deadline) throw new Error(`processes ${pids.filter(isAlive).join(', ')} still running after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function readStat(pid: number): { state: string; ppid: number } | null {
  try {
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const [state = '', ppid = '0'] = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return { state, ppid: Number(ppid) }
  } catch {
    return null
  }
}

/**
 * The test's ports lie inside Linux's ephemeral range (32768-60999), so now and then one of the
 * stack's own outgoing connections holds one of them for a moment: try again briefly.
 */
export async function retryWhilePortBusy<T>(what: string, fn: () => Promise<T>, tries = 40): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn()
    } catch (error) {
      const text = String(error instanceof Error ? error.message : error)
      if (i >= tries || !/EADDRINUSE|could not bind|could not create any TCP\/IP sockets|Address already in use|did not listen|is in use/i.test(text))
        throw error
      await new Promise((r) => setTimeout(r, 250))
    }
  }
}
