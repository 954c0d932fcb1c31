/**
 * The bindings the app gets locally, and the command that runs the app with them:
 * one definition for `npm start` (scripts/start.ts) and `npm run bench` (scripts/bench/run.ts).
 */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { LocalConfig } from './config'
import { DEMO_TENANT_ID } from './demo-accounts'
import type { LocalSecrets } from './secrets'

export function appBindings(options: {
  config: LocalConfig
  database: { appUrl: string; wsProxy: string }
  secrets: LocalSecrets
  /** The identity provider's issuer (the local one's `issuer`). */
  oidcAuthority: string
  /** Browser origins allowed to call /api/* (CORS); none unless given. */
  corsOrigins?: string
  /** Further bindings (e.g. the bench's own settings); they win over the defaults. */
  extra?: Record<string, string>
}): Record<string, string> {
  const { config, database, secrets } = options
  return {
    APP_ENV: 'development',
    APP_ORIGIN: config.appOrigin,
    DATABASE_URL: database.appUrl,
    DATABASE_WS_PROXY: database.wsProxy,
    SESSION_SECRETS: secrets.sessionSecrets,
    PHI_KEYRING: secrets.phiKeyRing,
    PHI_BLIND_INDEX_KEY: secrets.phiBlindIndexKey,
    ...(secrets.phiBlindIndexKeyPrevious ? { PHI_BLIND_INDEX_KEY_PREVIOUS: secrets.phiBlindIndexKeyPrevious } : {}),
    // Signs the audit checkpoints; the bucket itself (AUDIT_CHECKPOINTS) comes from wrangler.toml.
    AUDIT_CHECKPOINT_KEY: secrets.auditCheckpointKey,
    // Webhooks (docs/decisions/043, 044): the sealing key, and receivers on this machine allowed.
    WEBHOOK_SECRETS_KEY: secrets.webhookSecretsKey,
    WEBHOOK_ALLOW_LOOPBACK: 'true',
    OIDC_AUTHORITY: options.oidcAuthority,
    OIDC_CLIENT_ID: config.webClientId,
    OIDC_CLIENT_SECRET: secrets.oidcClientSecret,
    OIDC_ALLOWED_TENANTS: DEMO_TENANT_ID,
    API_AUDIENCE: config.apiAudience,
    ...(options.corsOrigins ? { CORS_ORIGINS: options.corsOrigins } : {}),
    ...options.extra,
  }
}

/**
 * The command that runs the built app in workerd with these bindings (scripts/app-server.ts;
 * docs/decisions/026-app-in-workerd-without-wrangler-proxy.md). Run it in the folder that holds
 * functions/, build/ and wrangler.toml: the checkout, or the benches' snapshot of it.
 */
export function appServerCommand(
  config: LocalConfig,
  bindings: Record<string, string>,
  options: { inspectorPort?: number; /** keep the bundle, with its source map, here */ bundleDir?: string } = {},
) {
  return {
    command: 'npx',
    args: [
      'tsx',
      APP_SERVER_SCRIPT,
      '--host',
      '127.0.0.1',
      '--port',
      String(config.appPort),
      '--persist-to',
      join(config.dataDir, 'wrangler'),
      ...(options.inspectorPort ? ['--inspector-port', String(options.inspectorPort)] : []),
      ...(options.bundleDir ? ['--bundle-dir', options.bundleDir, '--sourcemap'] : []),
    ],
    // In the environment, not the arguments: the secrets stay out of the process list.
    env: { INTAKEPILOT_APP_BINDINGS: JSON.stringify(bindings), WRANGLER_SEND_METRICS: 'false' },
  }
}

/**
 * The courier's mail to the local catcher (scripts/lib/mail-catcher.ts): plain SMTP on loopback.
 * Only `npm start` (and so the tests) runs a catcher; a stack without one sends no mail.
 */
export const localMailBindings = (config: LocalConfig): Record<string, string> => ({
  SMTP_HOST: '127.0.0.1',
  SMTP_PORT: String(config.smtpPort),
  SMTP_STARTTLS: 'false',
  MAIL_FROM: 'IntakePilot <notifications@intakepilot.test>',
})

const APP_SERVER_SCRIPT = fileURLToPath(new URL('../app-server.ts', import.meta.url))
