/**
 * The checkpoint bucket and key for Node jobs (audit verify, checkpoint, retention).
 *
 * Locally the bucket is the one the app server gives the app (AUDIT_CHECKPOINTS in
 * wrangler.toml), reached through wrangler's own getPlatformProxy() over the same persist folder:
 * the documented way for a Node process to share a local binding's data with wrangler. With
 * AUDIT_CHECKPOINTS_REMOTE=1 (and wrangler's Cloudflare credentials) the same call reaches the
 * production bucket instead. The key is AUDIT_CHECKPOINT_KEY, or the local stack's secrets.json.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { localConfig } from './config'
import { loadOrCreateSecrets } from './secrets'

export const WRANGLER_CONFIG = fileURLToPath(new URL('../../wrangler.toml', import.meta.url))
export const CHECKPOINT_BUCKET_NAME = 'intakepilot-audit-checkpoints'

export type CheckpointStore = { bucket: R2Bucket; key: string; close: () => Promise<void> }

/** Where the app server (`--persist-to <dir>`, as wrangler names it) keeps its bindings' data (scripts/lib/app-bindings.ts). */
export const localPersistPath = (dataDir: string) => join(dataDir, 'wrangler', 'v3')

export async function openCheckpointStore(options: { dataDir?: string; key?: string } = {}): Promise<CheckpointStore> {
  const dataDir = options.dataDir ?? localConfig().dataDir
  const key = options.key ?? process.env.AUDIT_CHECKPOINT_KEY ?? loadOrCreateSecrets(dataDir).auditCheckpointKey
  const { getPlatformProxy } = await import('wrangler')
  const remote = process.env.AUDIT_CHECKPOINTS_REMOTE === '1'
  let configPath = WRANGLER_CONFIG
  let configDir: string | undefined
  if (remote) {
    // The bucket alone, marked remote: nothing else of the app's configuration is needed.
    configDir = mkdtempSync(join(tmpdir(), 'intakepilot-r2-'))
    configPath = join(configDir, 'wrangler.json')
    writeFileSync(
      configPath,
      JSON.stringify({
        name: 'intakepilot-audit-jobs',
        compatibility_date: '2026-04-20',
        r2_buckets: [{ binding: 'AUDIT_CHECKPOINTS', bucket_name: CHECKPOINT_BUCKET_NAME, remote: true }],
      }),
    )
  }
  const proxy = await getPlatformProxy<{ AUDIT_CHECKPOINTS: R2Bucket }>({
    configPath,
    envFiles: [],
    persist: remote ? false : { path: localPersistPath(dataDir) },
    remoteBindings: remote,
  })
  return {
    bucket: proxy.env.AUDIT_CHECKPOINTS,
    key,
    close: async () => {
      await proxy.dispose()
      if (configDir) rmSync(configDir, { recursive: true, force: true })
    },
  }
}
