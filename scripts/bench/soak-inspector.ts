/**
 * workerd's V8 inspector (Miniflare's `inspectorPort`: workerd's own, no proxy in between) and workerd's
 * resident memory: what `npm run bench:soak` samples.
 *
 * - heap: Runtime.getHeapUsage (usedSize / totalSize of the Worker's isolate), optionally after a
 *   full GC, so that "used" is what is kept alive, not garbage that has not been collected yet.
 *   workerd never answers HeapProfiler.collectGarbage (V8 runs it as a platform task, which
 *   workerd's inspector does not pump), so the GC is the one HeapProfiler.takeHeapSnapshot does
 *   before it walks the heap; the snapshot itself is discarded.
 * - snapshots: HeapProfiler.takeHeapSnapshot, written as a .heapsnapshot file (Chrome DevTools
 *   opens it; soak-snapshot.ts diffs two of them).
 * - RSS: VmRSS from /proc/<pid>/status of the workerd process that runs the app (Linux only).
 */
import { createWriteStream, readdirSync, readFileSync } from 'node:fs'
import WebSocket from 'ws'

export type HeapUsage = { usedSize: number; totalSize: number }

export class Inspector {
  private nextId = 1
  private pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>()
  private listeners = new Map<string, (params: any) => void>()

  private constructor(private socket: WebSocket) {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data))
      if (message.id !== undefined) {
        const waiter = this.pending.get(message.id)
        this.pending.delete(message.id)
        if (message.error) waiter?.reject(new Error(`${message.error.message} (${message.error.code})`))
        else waiter?.resolve(message.result)
      } else if (message.method) {
        this.listeners.get(message.method)?.(message.params)
      }
    })
    socket.on('close', () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error('inspector connection closed'))
      this.pending.clear()
    })
  }

  /** Connects to the Worker's target listed at http://127.0.0.1:<port>/json. */
  static async connect(port: number, timeoutMs = 30_000): Promise<Inspector> {
    const deadline = Date.now() + timeoutMs
    let lastError: unknown
    while (Date.now() < deadline) {
      try {
        const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as { id?: string; webSocketDebuggerUrl?: string }[]
        // The app's isolate, not the courier's beside it (scripts/lib/app-server.ts names it "app").
        const url = targets.find((t) => t.id === 'core:user:app' && t.webSocketDebuggerUrl)?.webSocketDebuggerUrl
        if (url) {
          const socket = new WebSocket(url, { maxPayload: 1024 * 1024 * 1024 })
          await new Promise<void>((resolve, reject) => {
            socket.once('open', () => resolve())
            socket.once('error', reject)
          })
          socket.on('error', () => {})
          const inspector = new Inspector(socket)
          return inspector
        }
        lastError = new Error('no target with a webSocketDebuggerUrl')
      } catch (error) {
        lastError = error
      }
      await new Promise((r) => setTimeout(r, 300))
    }
    throw new Error(`no inspector on 127.0.0.1:${port}: ${lastError instanceof Error ? lastError.message : lastError}`)
  }

  send<T = any>(method: string, params: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`${method}: no answer within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      })
      this.socket.send(JSON.stringify({ id, method, params }))
    })
  }

  async heapUsage(options: { gc?: boolean } = {}): Promise<HeapUsage> {
    if (options.gc) await this.heapSnapshot(null)
    const { usedSize, totalSize } = await this.send<HeapUsage>('Runtime.getHeapUsage')
    return { usedSize, totalSize }
  }

  /** Writes a heap snapshot (after a full GC, which takeHeapSnapshot does itself) to `file`, or nowhere. */
  async heapSnapshot(file: string | null): Promise<void> {
    const out = file ? createWriteStream(file) : null
    this.listeners.set('HeapProfiler.addHeapSnapshotChunk', ({ chunk }) => out?.write(chunk))
    try {
      await this.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false, captureNumericValue: false }, 600_000)
    } finally {
      this.listeners.delete('HeapProfiler.addHeapSnapshotChunk')
      if (out) await new Promise<void>((resolve) => out.end(resolve))
    }
  }

  close() {
    this.socket.close()
  }
}

/** The workerd process that runs the app under `rootPid` (the app server runs one: scripts/lib/app-server.ts). */
export function findWorkerdPid(rootPid: number): number | null {
  const children = new Map<number, number[]>()
  const names = new Map<number, string>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      names.set(Number(entry), comm)
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)])
    } catch {}
  }
  const queue = [rootPid]
  while (queue.length) {
    const pid = queue.shift()!
    if (pid !== rootPid && names.get(pid) === 'workerd') return pid
    queue.push(...(children.get(pid) ?? []))
  }
  return null
}

/** Resident memory of `pid` in bytes (VmRSS), or null when it is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb ? Number(kb) * 1024 : null
  } catch {
    return null
  }
}
