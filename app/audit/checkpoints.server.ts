/**
 * Signed checkpoints of the audit chains, kept outside the database (R2) under a key the
 * database never holds (docs/decisions/021-audit-checkpoints-outside-the-database.md).
 *
 * A checkpoint says "at <time>, clinic <chain>'s row <seq> had hash <hash>", HMAC-SHA256 signed.
 * Whoever owns the database can rewrite rows and re-hash the chain, but cannot sign: the
 * verifier (scripts/lib/audit-verify.ts) compares every checkpoint with what the rows say now.
 * A retention checkpoint also says which start of the chain was removed on purpose.
 *
 * Web Crypto only: runs in workerd (the export) and in Node (the scheduled job, retention, verify).
 */
import type { TenantDatabase } from '~/tenancy/tenant.server'
import { clinicChainHead } from './audit-log.server'

/** The part of an R2 bucket this needs: R2Bucket itself, or wrangler's local proxy of one. */
export type CheckpointBucket = Pick<R2Bucket, 'put' | 'list'>

export type CheckpointKind = 'head' | 'retention'

export type Checkpoint = {
  kind: CheckpointKind
  /** The clinic id, or '-' for rows outside any clinic (as audit_chain_heads keys them). */
  chain: string
  /** head: the chain's last row; retention: the last row removed. */
  seq: number
  hash: string
  /** When it was signed (ISO). */
  at: string
  /** What wrote it: 'export', 'schedule', 'retention'. */
  by: string
  /** retention only: every row up to seq is gone, removed as older than this (ISO). */
  cutoff?: string
}

export type SignedCheckpoint = Checkpoint & { key: string; sig: string }

const PREFIX = 'audit-checkpoints/'

/**
 * seq padded so that listing is in chain order; the hash is part of the name, so a second
 * checkpoint of the same seq with another hash (a rewound and refilled chain) never replaces
 * the first: both stay, and the verifier sees them disagree.
 */
export const checkpointObjectKey = (c: Pick<Checkpoint, 'kind' | 'chain' | 'seq' | 'hash'>) =>
  `${PREFIX}${c.chain}/${c.kind}/${String(c.seq).padStart(19, '0')}-${c.hash.slice(0, 16)}`

/** The signed text: fixed field order, nothing left to a serialiser's choices. */
const signedText = (c: Checkpoint) => ['intakepilot-audit-checkpoint/v1', c.kind, c.chain, String(c.seq), c.hash, c.at, c.by, c.cutoff ?? ''].join('|')

async function hmacKey(secret: string) {
  const raw = base64Bytes(secret)
  if (raw.byteLength < 32) throw new Error('AUDIT_CHECKPOINT_KEY must be at least 32 bytes, base64')
  return crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])
}

export async function signCheckpoint(secret: string, checkpoint: Checkpoint): Promise<string> {
  const sig = await crypto.subtle.sign('HMAC', await hmacKey(secret), new TextEncoder().encode(signedText(checkpoint)))
  return bytesBase64(new Uint8Array(sig))
}

export async function checkpointSignatureValid(secret: string, checkpoint: Checkpoint, sig: string): Promise<boolean> {
  let bytes: Uint8Array<ArrayBuffer>
  try {
    bytes = base64Bytes(sig)
  } catch {
    return false
  }
  return crypto.subtle.verify('HMAC', await hmacKey(secret), bytes, new TextEncoder().encode(signedText(checkpoint)))
}

/**
 * Writes one checkpoint. The body is the checkpoint as JSON (for people); the same fields and
 * the signature ride in the custom metadata, so that the verifier reads them all with list().
 */
export async function writeCheckpoint(bucket: CheckpointBucket, secret: string, checkpoint: Checkpoint) {
  const sig = await signCheckpoint(secret, checkpoint)
  const key = checkpointObjectKey(checkpoint)
  await bucket.put(key, JSON.stringify({ ...checkpoint, sig }), {
    httpMetadata: { contentType: 'application/json' },
    customMetadata: metadataOf(checkpoint, sig),
  })
  return key
}

const metadataOf = (c: Checkpoint, sig: string): Record<string, string> => ({
  kind: c.kind,
  chain: c.chain,
  seq: String(c.seq),
  hash: c.hash,
  at: c.at,
  by: c.by,
  ...(c.cutoff ? { cutoff: c.cutoff } : {}),
  sig,
})

export type CheckpointListing = { valid: SignedCheckpoint[]; badSignature: string[] }

/** Every checkpoint in the bucket, signatures checked; in key order (chain, kind, seq). */
export async function readCheckpoints(bucket: CheckpointBucket, secret: string): Promise<CheckpointListing> {
  const listing: CheckpointListing = { valid: [], badSignature: [] }
  let cursor: string | undefined
  do {
    const page = await bucket.list({ prefix: PREFIX, cursor, include: ['customMetadata'] })
    for (const object of page.objects) {
      const m = object.customMetadata ?? {}
      const checkpoint: Checkpoint = {
        kind: m.kind === 'retention' ? 'retention' : 'head',
        chain: m.chain ?? '',
        seq: Number(m.seq),
        hash: m.hash ?? '',
        at: m.at ?? '',
        by: m.by ?? '',
        ...(m.cutoff ? { cutoff: m.cutoff } : {}),
      }
      // The name must say what the signed fields say, or a copy under another name would count twice.
      const named = Number.isSafeInteger(checkpoint.seq) && checkpointObjectKey(checkpoint) === object.key
      if (named && m.kind === checkpoint.kind && (await checkpointSignatureValid(secret, checkpoint, m.sig ?? ''))) {
        listing.valid.push({ ...checkpoint, key: object.key, sig: m.sig! })
      } else listing.badSignature.push(object.key)
    }
    cursor = page.truncated ? page.cursor : undefined
  } while (cursor)
  return listing
}

function base64Bytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

function bytesBase64(bytes: Uint8Array): string {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary)
}

/**
 * The app's own checkpoint, on every export: the clinic's head, read through RLS as the admin
 * exporting, signed with the Worker secret. Returns the seq signed, or null when the bucket or
 * key is not configured (then the export says so in the log: production must have both).
 */
export async function checkpointClinic(
  env: { AUDIT_CHECKPOINTS?: CheckpointBucket; AUDIT_CHECKPOINT_KEY?: string },
  db: TenantDatabase,
  clinicId: string,
  by: string,
): Promise<number | null> {
  if (!env.AUDIT_CHECKPOINTS || !env.AUDIT_CHECKPOINT_KEY) return null
  const head = await db.tenant((tx) => clinicChainHead(tx, clinicId))
  if (!head) return null
  await writeCheckpoint(env.AUDIT_CHECKPOINTS, env.AUDIT_CHECKPOINT_KEY, { kind: 'head', chain: clinicId, ...head, at: new Date().toISOString(), by })
  return head.seq
}
