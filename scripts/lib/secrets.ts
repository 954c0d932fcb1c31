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
}

const key = () => randomBytes(32).toString('base64')

export function loadOrCreateSecrets(dataDir: string): LocalSecrets {
  const file = join(dataDir, 'secrets.json')
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as LocalSecrets
  mkdirSync(dataDir, { recursive: true })
  const secrets: LocalSecrets = {
    sessionSecrets: randomBytes(32).toString('base64url'),
    phiKeyRing: JSON.stringify({ current: 'k1', keys: { k1: key() } }),
    phiBlindIndexKey: key(),
    oidcClientSecret: randomBytes(24).toString('base64url'),
  }
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 })
  return secrets
}
