/**
 * Local secrets, generated once per data directory and kept in <dataDir>/secrets.json
 * (never committed). Production secrets are wrangler secrets (README).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'

export type LocalSecrets = {
  sessionSecrets: string
  phiKeyRing: string
  phiBlindIndexKey: string
  oidcClientSecret: string
  /** Signs the audit trail's checkpoints (docs/decisions/021); never given to the database. */
  auditCheckpointKey: string
  backupKey: string
  webhookSecretsKey: string
  /** Seals webhook signing secrets (docs/decisions/043); the app and the courier share it. */
  /** Seals `npm run db:backup` files (docs/decisions/050); apart from the PHI keys, never given to the app. */
  /** Set by hand while a blind-index rotation runs (README, "Rotating keys"): lookups match under it too. */
  phiBlindIndexKeyPrevious?: string
}

const key = () => randomBytes(32).toString('base64')

export function loadOrCreateSecrets(dataDir: string): LocalSecrets {
  const file = join(dataDir, 'secrets.json')
  const existing = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalSecrets>) : null
  // A data directory from before a secret existed gets the new one, and keeps all it had.
  const secrets: LocalSecrets = {
    sessionSecrets: randomBytes(32).toString('base64url'),
    phiKeyRing: JSON.stringify({ current: 'k1', keys: { k1: key() } }),
    phiBlindIndexKey: key(),
    oidcClientSecret: randomBytes(24).toString('base64url'),
    auditCheckpointKey: key(),
    backupKey: key(),
    webhookSecretsKey: key(),
    ...existing,
  }
  if (existing && Object.keys(secrets).every((name) => name in existing)) return secrets
  mkdirSync(dataDir, { recursive: true })
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 })
  return secrets
}
