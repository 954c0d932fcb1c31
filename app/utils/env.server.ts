/**
 * The Cloudflare environment (wrangler vars and secrets). Request code reads configuration
 * only from here, through the load context: never from process.env.
 *
 * The pipeline checks the bindings once per isolate (readEnv): a deployment with a binding
 * missing or malformed answers every request 500 and logs which bindings, by name (never a
 * value), instead of failing later, on the first page that happens to need one.
 */
import { z } from 'zod'

export interface Env {
  ASSETS: Fetcher
  /** 'production' | 'development' | 'test' */
  APP_ENV?: string
  /** Runtime role (intakepilot_app) connection string. */
  DATABASE_URL: string
  /** host:port of the local WebSocket relay; unset on Neon. */
  DATABASE_WS_PROXY?: string
  /** Comma-separated secrets for the session cookie; the first encrypts, all decrypt. */
  SESSION_SECRETS: string
  /** JSON key ring for PHI: {"current":"k1","keys":{"k1":"<base64 32 bytes>"}}. */
  PHI_KEYRING: string
  /** Base64 32-byte key for blind indexes; separate from the key ring. */
  PHI_BLIND_INDEX_KEY: string
  /** The blind-index key being rotated away from: lookups match under it too until `npm run keys:rotate -- --blind-index` is done. */
  PHI_BLIND_INDEX_KEY_PREVIOUS?: string
  /** OpenID authority: https://login.microsoftonline.com/<tenant>/v2.0 or the local provider. */
  OIDC_AUTHORITY: string
  OIDC_CLIENT_ID: string
  OIDC_CLIENT_SECRET: string
  /** Comma-separated Entra tenant ids (`tid`) allowed to sign in. */
  OIDC_ALLOWED_TENANTS?: string
  /** Public origin of the app, for redirect URIs (e.g. https://intake.example.org). */
  APP_ORIGIN?: string
  /** The `aud` of API access tokens: the API's app id URI (e.g. api://intakepilot). */
  API_AUDIENCE: string
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
  /** Referral documents, sealed in chunks (R2, wrangler.toml; docs/decisions/027). */
  DOCUMENTS?: R2Bucket
  /** The companion Worker that delivers the outbox (workers/courier; docs/decisions/038). */
  COURIER?: Fetcher
  /** Each clinic's live queue, a Durable Object of the courier (docs/decisions/038). */
  CLINIC_LIVE?: DurableObjectNamespace
  /** Base64 key (32 bytes) sealing webhook signing secrets; the courier has the same one (docs/decisions/043). */
  WEBHOOK_SECRETS_KEY?: string
  /** 'true': webhook endpoints on loopback over http, for the local stack and tests; ignored in production (docs/decisions/044). */
  WEBHOOK_ALLOW_LOOPBACK?: string
  /** A DNS-over-HTTPS JSON resolver: a webhook name that resolves to a private address is refused. */
  WEBHOOK_DNS_RESOLVER?: string
}

export const isProduction = (env: Pick<Env, 'APP_ENV'>) => (env.APP_ENV ?? 'production') === 'production'

/** The bindings are not usable; `problems` names each one (never its value). */
export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`The environment is not usable: ${problems.join('; ')}`)
    this.name = 'EnvError'
  }
}

const given = (v: unknown) => typeof v === 'string' && v.trim() !== ''
// Bindings are strings; an empty one is as good as none.
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (given(v) ? v : undefined), schema.optional())
const text = z
  .string({ error: (issue) => (issue.input === undefined ? 'is missing' : 'must be text') })
  .trim()
  .min(1, 'is missing')

function base64Bytes(value: string) {
  try {
    return /^[A-Za-z0-9+/]+={0,2}$/.test(value) ? atob(value).length : -1
  } catch {
    return -1
  }
}
const key32 = text.refine((v) => base64Bytes(v) === 32, 'must be a base64 key of 32 bytes')

const isUrl = (v: string, protocols: string[]) => {
  try {
    return protocols.includes(new URL(v).protocol)
  } catch {
    return false
  }
}
const httpUrl = text.refine((v) => isUrl(v, ['https:', 'http:']), 'must be an http(s) URL')
const isOrigin = (v: string) => isUrl(v, ['https:', 'http:']) && new URL(v).origin === v.replace(/\/$/, '')
const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
const milliseconds = text.regex(/^[1-9][0-9]*$/, 'must be a whole number of milliseconds')

const KeyRing = z.object({
  current: z.string().min(1),
  keys: z.record(
    z.string(),
    z.string().refine((k) => base64Bytes(k) === 32),
  ),
})
function isKeyRing(v: string) {
  try {
    const ring = KeyRing.safeParse(JSON.parse(v))
    return ring.success && ring.data.current in ring.data.keys
  } catch {
    return false
  }
}

const EnvSchema = z.object({
  APP_ENV: optional(z.enum(['production', 'development', 'test'], { error: 'must be production, development or test' })),
  DATABASE_URL: text.refine((v) => isUrl(v, ['postgres:', 'postgresql:']), 'must be a postgres:// connection string'),
  DATABASE_WS_PROXY: optional(text.regex(/^[A-Za-z0-9.-]+:[0-9]{1,5}$/, 'must be host:port')),
  SESSION_SECRETS: text,
  PHI_KEYRING: text.refine(isKeyRing, 'must be a JSON key ring {"current": kid, "keys": {kid: base64 32-byte key}} that holds its current kid'),
  PHI_BLIND_INDEX_KEY: key32,
  PHI_BLIND_INDEX_KEY_PREVIOUS: optional(key32),
  OIDC_AUTHORITY: httpUrl,
  OIDC_CLIENT_ID: text,
  OIDC_CLIENT_SECRET: text,
  OIDC_ALLOWED_TENANTS: optional(text),
  APP_ORIGIN: optional(text.refine(isOrigin, 'must be an origin, such as https://intake.example.org')),
  API_AUDIENCE: text,
  CORS_ORIGINS: optional(text.refine((v) => list(v).every(isOrigin), 'must be comma-separated origins (never *)')),
  REQUEST_DEADLINE_MS: optional(milliseconds),
  REQUEST_BODY_TIMEOUT_MS: optional(milliseconds),
  AUDIT_CHECKPOINT_KEY: optional(key32),
  WEBHOOK_SECRETS_KEY: optional(key32),
  WEBHOOK_DNS_RESOLVER: optional(text.refine((v) => isUrl(v, ['https:', 'http:']), 'must be an http(s) URL')),
})

const checked = new WeakMap<object, Env | EnvError>()

/**
 * The bindings, checked: once per isolate (the environment object stays the same for its
 * requests). Throws an EnvError that names every binding missing or malformed.
 */
export function readEnv(bindings: Env): Env {
  let result = checked.get(bindings)
  if (!result) {
    const parsed = EnvSchema.safeParse(bindings)
    result = parsed.success ? bindings : new EnvError(parsed.error.issues.map((i) => `${String(i.path[0])} ${i.message}`))
    checked.set(bindings, result)
  }
  if (result instanceof EnvError) throw result
  return result
}
