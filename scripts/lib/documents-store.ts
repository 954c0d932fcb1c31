/**
 * The DOCUMENTS bucket for Node jobs (key rotation, retention purge, backups): the local one the
 * app server writes, or the production bucket with DOCUMENTS_REMOTE=1 and wrangler's Cloudflare
 * credentials.
 */
import { localConfig } from './config'
import { openJobBucket, type JobBucket } from './job-bucket'

export const DOCUMENTS_BUCKET_NAME = 'intakepilot-documents'
export type DocumentStore = JobBucket

export function openDocumentStore(options: { dataDir?: string } = {}): Promise<DocumentStore> {
  return openJobBucket({
    binding: 'DOCUMENTS',
    bucketName: DOCUMENTS_BUCKET_NAME,
    jobName: 'intakepilot-phi-jobs',
    remote: process.env.DOCUMENTS_REMOTE === '1',
    dataDir: options.dataDir ?? localConfig().dataDir,
  })
}
