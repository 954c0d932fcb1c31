/**
 * The DOCUMENTS bucket for Node jobs (key rotation, retention purge, backups), as
 * scripts/lib/audit-store.ts reaches the checkpoints: locally through wrangler's getPlatformProxy()
 * over the app server's persist folder, or the production bucket with DOCUMENTS_REMOTE=1 and
 * wrangler's Cloudflare credentials.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { localPersistPath, WRANGLER_CONFIG } from './audit-store'
import { localConfig } from './config'

export const DOCUMENTS_BUCKET_NAME = 'intakepilot-documents'
export type DocumentStore = { bucket: R2Bucket; close: () => Promise<void> }

export async function openDocumentStore(options: { dataDir?: string } = {}): Promise<DocumentStore> {
  const dataDir = options.dataDir ?? localConfig().dataDir
  const { getPlatformProxy } = await import('wrangler')
  const remote = process.env.DOCUMENTS_REMOTE === '1'
  let configPath = WRANGLER_CONFIG
  let configDir: string | undefined
  if (remote) {
    configDir = mkdtempSync(join(tmpdir(), 'intakepilot-r2-'))
    configPath = join(configDir, 'wrangler.json')
    writeFileSync(
      configPath,
      JSON.stringify({
        name: 'intakepilot-phi-jobs',
        compatibility_date: '2026-04-20',
        r2_buckets: [{ binding: 'DOCUMENTS', bucket_name: DOCUMENTS_BUCKET_NAME, remote: true }],
      }),
    )
  }
  const proxy = await getPlatformProxy<{ DOCUMENTS: R2Bucket }>({
    configPath,
    envFiles: [],
    persist: remote ? false : { path: localPersistPath(dataDir) },
    remoteBindings: remote,
  })
  return {
    bucket: proxy.env.DOCUMENTS,
    close: async () => {
      await proxy.dispose()
      if (configDir) rmSync(configDir, { recursive: true, force: true })
    },
  }
}
