/**
 * The Cloudflare environment (wrangler vars and secrets). Request code reads configuration
 * only from here, through the load context: never from process.env.
 */
export interface Env {
  ASSETS: Fetcher
  /** 'production' | 'development' | 'test' */
  APP_ENV?: string
  /** Runtime role (intakepilot_app) connection string. */
  DATABASE_URL: string
  /** host:port of the local WebSocket relay; unset on Neon. */
  DATABASE_WS_PROXY?: string
  /** Comma-separated secrets for the session cookie; the first encrypts, all decrypt. */
  SESSION_SECRETS?: string
  /** JSON key ring for PHI: {"current":"k1","keys":{"k1":"<base64 32 bytes>"}}. */
  PHI_KEYRING?: string
  /** Base64 32-byte key for blind indexes; separate from the key ring. */
  PHI_BLIND_INDEX_KEY?: string
  /** OpenID authority: https://login.microsoftonline.com/<tenant>/v2.0 or the local provider. */
  OIDC_AUTHORITY?: string
  OIDC_CLIENT_ID?: string
  OIDC_CLIENT_SECRET?: string
  /** Comma-separated Entra tenant ids (`tid`) allowed to sign in. */
  OIDC_ALLOWED_TENANTS?: string
  /** Public origin of the app, for redirect URIs (e.g. https://intake.example.org). */
  APP_ORIGIN?: string
  /** The `aud` of API access tokens: the API's app id URI (e.g. api://intakepilot). */
  API_AUDIENCE?: string
  /** Comma-separated origins allowed to call /api/* from a browser (CORS); never `*`. */
  CORS_ORIGINS?: string
  /** Milliseconds a request may take before it is answered 503 (default 30 000); the tests shorten it. */
  REQUEST_DEADLINE_MS?: string
  /** Milliseconds a request body may take to arrive before it is answered 408 (default 10 000). */
  REQUEST_BODY_TIMEOUT_MS?: string
  /** The audit trail's signed checkpoints (R2, wrangler.toml; docs/decisions/021). */
  AUDIT_CHECKPOINTS?: R2Bucket
  /** Base64 key (32 bytes) that signs them: a Worker secret, never given to the database. */
  AUDIT_CHECKPOINT_KEY?: string
}

export const isProduction = (env: Pick<Env, 'APP_ENV'>) => (env.APP_ENV ?? 'production') === 'production'
