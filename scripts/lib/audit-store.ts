/**
 * The checkpoint bucket and key for Node jobs (audit verify, checkpoint, retention).
 *
 * The bucket is the one the app server gives the app (AUDIT_CHECKPOINTS in wrangler.toml), or the
 * production bucket with AUDIT_CHECKPOINTS_REMOTE=1 (and wrangler's Cloudflare credentials). The
 * key is AUDIT_CHECKPOINT_KEY, or the local stack's secrets.json.
 */
import { localConfig } from './config'
import { openJobBucket, type JobBucket } from './job-bucket'
import { loadOrCreateSecrets } from './secrets'

export const CHECKPOINT_BUCKET_NAME = 'intakepilot-audit-checkpoints'

export type CheckpointStore = JobBucket & { key: string }

export async function openCheckpointStore(options: { dataDir?: string; key?: string } = {}): Promise<CheckpointStore> {
  const dataDir = options.dataDir ?? localConfig().dataDir
  const key = options.key ?? process.env.AUDIT_CHECKPOINT_KEY ?? loadOrCreateSecrets(dataDir).auditCheckpointKey
  const bucket = await openJobBucket({
    binding: 'AUDIT_CHECKPOINTS',
    bucketName: CHECKPOINT_BUCKET_NAME,
    jobName: 'intakepilot-audit-jobs',
    remote: process.env.AUDIT_CHECKPOINTS_REMOTE === '1',
    dataDir,
  })
  return { ...bucket, key }
}
