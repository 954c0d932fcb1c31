/**
 * One R2 bucket for a Node job (audit checkpoints, documents), through wrangler's own
 * getPlatformProxy(): locally over the app server's persist folder, the documented way for a Node
 * process to share a local binding's data with wrangler; with `remote` (and wrangler's Cloudflare
 * credentials) the production bucket, from a configuration that holds that bucket alone.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const WRANGLER_CONFIG = fileURLToPath(new URL('../../wrangler.toml', import.meta.url))

/** Where the app server (`--persist-to <dir>`, as wrangler names it) keeps its bindings' data (scripts/lib/app-bindings.ts). */
export const localPersistPath = (dataDir: string) => join(dataDir, 'wrangler', 'v3')

export type JobBucket = { bucket: R2Bucket; close: () => Promise<void> }

export async function openJobBucket(options: { binding: string; bucketName: string; jobName: string; remote: boolean; dataDir: string }): Promise<JobBucket> {
  const { getPlatformProxy } = await import('wrangler')
  let configPath = WRANGLER_CONFIG
  let configDir: string | undefined
  if (options.remote) {
    configDir = mkdtempSync(join(tmpdir(), 'intakepilot-r2-'))
    configPath = join(configDir, 'wrangler.json')
    writeFileSync(
      configPath,
      JSON.stringify({
        name: options.jobName,
        compatibility_date: '2026-04-20',
        r2_buckets: [{ binding: options.binding, bucket_name: options.bucketName, remote: true }],
      }),
    )
  }
  const proxy = await getPlatformProxy<Record<string, R2Bucket>>({
    configPath,
    envFiles: [],
    persist: options.remote ? false : { path: localPersistPath(options.dataDir) },
    remoteBindings: options.remote,
  })
  return {
    bucket: proxy.env[options.binding]!,
    close: async () => {
      await proxy.dispose()
      if (configDir) rmSync(configDir, { recursive: true, force: true })
    },
  }
}
