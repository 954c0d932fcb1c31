/** One local stack per data directory: <dataDir>/stack.json names the running one. */
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'

export type StackInfo = { pid: number; appOrigin: string; relayPort: number; pgPort: number; idpPort: number }

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export function runningStack(dataDir: string): StackInfo | null {
  const file = join(dataDir, 'stack.json')
  if (!existsSync(file)) return null
  const info = JSON.parse(readFileSync(file, 'utf8')) as StackInfo
  return alive(info.pid) && info.pid !== process.pid ? info : null
}

export function claimStack(dataDir: string, info: Omit<StackInfo, 'pid'>) {
  mkdirSync(dataDir, { recursive: true })
  writeFileSync(join(dataDir, 'stack.json'), JSON.stringify({ pid: process.pid, ...info }))
  return () => rmSync(join(dataDir, 'stack.json'), { force: true })
}
