/**
 * The local OpenID provider that stands in for Microsoft Entra ID (dev and tests only, loopback).
 * The app talks to it exactly as to Entra: an Entra-shaped issuer with the tenant in its path, ID
 * tokens carrying tid/oid/preferred_username, JWT access tokens for the API, rotating refresh tokens.
 * Built on oidc-provider (a certified OP) so the protocol details are the real ones, not ours.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { dirname } from 'node:path'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose'
// oidc-provider ships no type declarations; the handful of shapes used here are typed loosely below.
// @ts-ignore
import Provider, { errors, interactionPolicy } from 'oidc-provider'
import { APP_ROLES, DEMO_ACCOUNTS, DEMO_APPS, DEMO_PASSWORD, DEMO_TENANT_ID, findDemoAccount, type AppRole, type DemoAccount } from './demo-accounts'
import { CLI_CLIENT_ID, CLI_REDIRECT_URI } from './idp-login'

export type IdpClient = { clientId: string; clientSecret?: string; redirectUris: string[]; postLogoutRedirectUris?: string[] }
export type IdentityProvider = {
  port: number
  /** Entra-shaped issuer: `http://127.0.0.1:${port}/${DEMO_TENANT_ID}/v2.0` */
  issuer: string
  /** Registers an EHR system's app (client credentials, its app roles), as a tenant admin does in Entra. */
  registerApp(app: { clientId: string; clientSecret: string; roles: AppRole[] }): Promise<void>
  /** Revoke every grant/refresh token of that account (for "revoked refresh token" tests). */
  revokeAccount(email: string): Promise<void>
  /** Stops listening (connections are refused) and listens again later, every grant kept: an outage (scripts/test-faults.ts). */
  suspend(): Promise<void>
  resume(): Promise<void>
  close(): Promise<void>
}

/** The delegated scope every access token carries in `scp`, as Entra names an API's default one. */
export const API_SCOPE = 'access_as_user'

/**
 * Token lifetimes within Entra's (Microsoft identity platform token lifetimes): access tokens
 * 60-90 minutes (never longer here; tests may ask for shorter, to exercise refreshes), ID
 * tokens 1 hour, refresh tokens from 24 hours up to 90 days. A provider that issued a 10-year
 * access token would let tests pass that production can never meet.
 */
export const TOKEN_LIFETIMES = {
  accessTokenMaxSeconds: 90 * 60,
  idTokenSeconds: 60 * 60,
  refreshTokenMinSeconds: 24 * 60 * 60,
  refreshTokenMaxSeconds: 90 * 24 * 60 * 60,
} as const
// Entra's default inactivity window for refresh tokens; within refreshTokenMin/MaxSeconds.
const REFRESH_TOKEN_TTL = 14 * 24 * 60 * 60

/** The access-token lifetime asked for, if Entra could issue it; else a clear error. */
export function checkedAccessTokenTtl(seconds: number) {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > TOKEN_LIFETIMES.accessTokenMaxSeconds) {
    throw new Error(
      `Access-token lifetime ${seconds} s is out of range: Entra issues at most ${TOKEN_LIFETIMES.accessTokenMaxSeconds} s (90 minutes); set IDP_ACCESS_TOKEN_TTL to 1..${TOKEN_LIFETIMES.accessTokenMaxSeconds}`,
    )
  }
  return seconds
}

// oidc-provider's Koa context and stored payloads, loosely: only what this file touches.
type Ctx = { oidc: any; cookies: any; status: number; body: unknown; type: string; redirect(url: string): void }
type Payload = Record<string, any>

export async function startIdentityProvider(options: {
  port: number
  clients: IdpClient[]
  /** The audience (`aud`) of access tokens: the API's app id, e.g. 'api://intakepilot'. */
  apiAudience: string
  accessTokenTtlSeconds?: number
  /** Where to keep the RS256 signing key (JWKS JSON) so restarts keep the kid; generated if missing. */
  jwksPath?: string
}): Promise<IdentityProvider> {
  const { port, apiAudience } = options
  const accessTokenTtlSeconds = checkedAccessTokenTtl(options.accessTokenTtlSeconds ?? 900)
  const prefix = `/${DEMO_TENANT_ID}/v2.0`
  const issuer = `http://127.0.0.1:${port}${prefix}`
  const store = createStore()
  const byOid = (oid: string) => DEMO_ACCOUNTS.find((a) => a.oid === oid)
  // Each EHR app's service principal (its `oid`) and the app roles granted to it.
  const apps = new Map(DEMO_APPS.map((a) => [a.clientId, { oid: a.oid, roles: a.roles }]))

  const clients = options.clients.some((c) => c.clientId === CLI_CLIENT_ID)
    ? options.clients
    : [...options.clients, { clientId: CLI_CLIENT_ID, redirectUris: [CLI_REDIRECT_URI] }]

  // Entra honours prompt=select_account; oidc-provider rejects prompts its policy does not know.
  const policy = interactionPolicy.base()
  policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0)

  const provider = new Provider(issuer, {
    adapter: store.Adapter,
    clients: [
      ...clients.map((c) => ({
        client_id: c.clientId,
        client_secret: c.clientSecret,
        redirect_uris: c.redirectUris,
        post_logout_redirect_uris: c.postLogoutRedirectUris ?? [],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        // client_secret_basic also accepts client_secret_post at oidc-provider, as Entra accepts both.
        token_endpoint_auth_method: c.clientSecret ? 'client_secret_basic' : 'none',
      })),
      ...DEMO_APPS.map((a) => appClient(a)),
    ],
    jwks: { keys: [await loadSigningKey(options.jwksPath)] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    claims: { openid: ['sub', 'oid', 'tid', 'ver'], profile: ['name', 'preferred_username'], email: ['email'] },
    // Entra puts the profile claims in the ID token itself; the app reads them from there.
    conformIdTokenClaims: false,
    enabledJWA: { idTokenSigningAlgValues: ['RS256'], userinfoSigningAlgValues: ['RS256'] },
    responseTypes: ['code'],
    pkce: { required: () => true },
    async findAccount(_ctx: Ctx, sub: string) {
      const account = byOid(sub)
      return account && { accountId: account.oid, claims: async () => ({ sub: account.oid, ...accountClaims(account), email: account.email }) }
    },
    async extraTokenClaims(_ctx: Ctx, token: Payload) {
      // An app-only token, as Entra's v2 one: the app's service principal as oid, the client as
      // azp, its app roles in `roles`, idtyp "app", and no `scp` (there is no user to act for).
      if (token.kind === 'ClientCredentials') {
        const app = apps.get(token.clientId)
        return app && { oid: app.oid, tid: DEMO_TENANT_ID, azp: token.clientId, appid: token.clientId, roles: app.roles, idtyp: 'app', ver: '2.0' }
      }
      const account = token.accountId ? byOid(token.accountId) : undefined
      return account && { ...accountClaims(account), scp: API_SCOPE }
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Entra-style: no `resource` parameter needed; every access token is for the API.
        defaultResource: async () => apiAudience,
        useGrantedResource: async () => true,
        async getResourceServerInfo(_ctx: Ctx, indicator: string) {
          if (indicator !== apiAudience) throw new errors.InvalidTarget()
          return { audience: apiAudience, scope: API_SCOPE, accessTokenTTL: accessTokenTtlSeconds, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }
        },
      },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    },
    // Every client here is first-party. oidc-provider drops offline_access when a prompt other than
    // consent is sent (e.g. prompt=select_account, as Entra clients do), yet Entra still issues a
    // refresh token there; so: always, and they outlive the IdP's browser session, as at Entra.
    issueRefreshToken: async (_ctx: Ctx, client: Payload) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: async () => false,
    rotateRefreshToken: true,
    loadExistingGrant,
    interactions: { policy, url: async (_ctx: Ctx, interaction: Payload) => `${prefix}/interaction/${interaction.uid}` },
    ttl: {
      AccessToken: accessTokenTtlSeconds,
      ClientCredentials: accessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: TOKEN_LIFETIMES.idTokenSeconds,
      Interaction: 3600,
      RefreshToken: REFRESH_TOKEN_TTL,
      Grant: REFRESH_TOKEN_TTL,
      Session: REFRESH_TOKEN_TTL,
    },
    async renderError(ctx: Ctx, out: Payload) {
      ctx.type = 'html'
      ctx.body = page('Sign-in error', `<h1>Something went wrong</h1><p><code>${esc(out.error)}</code>: ${esc(out.error_description ?? '')}</p>`)
    },
  })
  // With no IdP session left (signed out already, or revoked) oidc-provider answers a logout with its
  // own self-submitting form, an inline script. There is nothing to end: go straight back.
  provider.use(async (ctx: Ctx, next: () => Promise<void>) => {
    await next()
    if (ctx.oidc?.route === 'end_session' && ctx.status === 200 && !ctx.oidc.session.accountId && ctx.oidc.entities.IdTokenHint) {
      redirectAfterLogout(ctx)
    }
  })
  provider.on('server_error', (_ctx: Ctx, error: Error) => console.error('[idp] server error:', error))

  /** First-party: grant whatever is asked, so the consent prompt never fires. */
  async function loadExistingGrant(ctx: Ctx) {
    const { oidc } = ctx
    const grantId = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(oidc.client.clientId)
    const grant =
      (grantId && (await oidc.provider.Grant.find(grantId))) || new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId })
    grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '))
    if (oidc.requestParamClaims.size) grant.addOIDCClaims([...oidc.requestParamClaims])
    for (const [indicator, server] of Object.entries<Payload>(oidc.resourceServers)) grant.addResourceScope(indicator, server.scope)
    await grant.save()
    return grant
  }

  /**
   * oidc-provider always asks "sign out?" here, and its answer must come back as a POST: without an
   * inline script no page can submit that by itself. So when the id_token_hint belongs to the signed-in
   * account (the case in which the spec lets an OP skip the question) this ends the session itself and
   * redirects at once, like oidc-provider's own confirm step with logout=yes. Otherwise (no hint, or
   * someone else's) it shows the question with plain buttons. Refresh tokens survive either way, as at
   * Entra (expiresWithSession is false): the app ends its own session.
   */
  async function logoutSource(ctx: Ctx, form: string) {
    const { session, entities } = ctx.oidc
    if (entities.IdTokenHint?.payload?.sub && entities.IdTokenHint.payload.sub === session.accountId) {
      await session.destroy()
      ctx.cookies.set(provider.cookieName('session'), null, { httpOnly: true, sameSite: 'lax' })
      return redirectAfterLogout(ctx)
    }
    ctx.body = page(
      'Sign out',
      `<h1>Sign out of the local identity provider?</h1>${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Sign out</button>
<button type="submit" form="op.logoutForm" class="secondary">Stay signed in</button>`,
    )
  }

  /** oidc-provider already checked post_logout_redirect_uri against the hint's client. */
  function redirectAfterLogout(ctx: Ctx) {
    const { params } = ctx.oidc
    const target = new URL(params.post_logout_redirect_uri ?? ctx.oidc.urlFor('end_session_success'))
    if (params.post_logout_redirect_uri && params.state != null) target.searchParams.set('state', params.state)
    ctx.status = 303
    ctx.redirect(target.href)
  }

  async function postLogoutSuccessSource(ctx: Ctx) {
    ctx.body = page('Signed out', '<h1>Signed out</h1><p>You are signed out of the local identity provider.</p>')
  }

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string) {
    let details: Payload
    try {
      details = await provider.interactionDetails(req, res)
    } catch {
      return send(res, 400, page('Sign-in expired', '<h1>This sign-in has expired</h1><p>Go back to IntakePilot and sign in again.</p>'))
    }
    if (details.uid !== uid || !['login', 'select_account'].includes(details.prompt.name)) {
      return send(res, 400, page('Sign-in error', `<h1>Unexpected sign-in step</h1><p><code>${esc(details.prompt.name)}</code></p>`))
    }
    const action = `${prefix}/interaction/${uid}`
    if (req.method === 'GET') return send(res, 200, loginPage(action, details.params.login_hint))
    if (req.method !== 'POST') return send(res, 405, 'Method Not Allowed')
    const form = await readForm(req)
    const login = form.get('login') ?? ''
    const account = findDemoAccount(login)
    if (!account || form.get('password') !== DEMO_PASSWORD) {
      return send(res, 401, loginPage(action, login, 'Wrong email or password. Pick one of the demo accounts below.'))
    }
    const result = { select_account: {}, login: { accountId: account.oid } }
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false })
  }

  async function revokeAccount(email: string) {
    const account = findDemoAccount(email)
    if (!account) throw new Error(`No demo account ${email}`)
    // Grants, refresh tokens, codes and browser sessions: like Entra's "revoke sessions".
    // Already-issued JWT access tokens stay valid until they expire, as at Entra.
    store.deleteWhere((payload) => payload.accountId === account.oid)
  }

  async function registerApp(app: { clientId: string; clientSecret: string; roles: AppRole[] }) {
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(app.clientId) || app.clientSecret.length < 16) throw new Error('client id or secret out of shape')
    if (!app.roles.every((r) => (APP_ROLES as readonly string[]).includes(r))) throw new Error('unknown app role')
    const oid = apps.get(app.clientId)?.oid ?? randomUUID()
    apps.set(app.clientId, { oid, roles: [...app.roles] })
    // oidc-provider finds a client that is not static through the adapter (its Client model).
    await new store.Adapter('Client').upsert(app.clientId, appClient(app))
  }

  const callback = provider.callback()

  /**
   * Entra accepts `offline_access` in a refresh request's scope (and clients send it, as the
   * app does); oidc-provider never puts offline_access in a refresh token's scope unless
   * consent was prompted, and so would refuse. Read the body here and drop it from refresh
   * requests only; oidc-provider then uses the parsed body (req.body).
   */
  async function acceptOfflineAccessOnRefresh(req: IncomingMessage) {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
    // Entra's client-credentials requests ask for `{resource}/.default`: every role the app was
    // granted. Here the resource is always the API (defaultResource) and the roles come with the app.
    if (params.get('grant_type') === 'client_credentials' && params.get('scope') === `${apiAudience}/.default`) params.delete('scope')
    if (params.get('grant_type') === 'refresh_token' && params.has('scope')) {
      params.set(
        'scope',
        (params.get('scope') ?? '')
          .split(' ')
          .filter((s) => s && s !== 'offline_access')
          .join(' '),
      )
    }
    Object.assign(req, { body: params.toString() })
  }
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', issuer).pathname
    const interactionUid = path.startsWith(`${prefix}/interaction/`) ? path.slice(prefix.length + 13) : undefined
    const handle = async () => {
      if (path === '/__dev/revoke') return devRevoke(req, res, revokeAccount)
      if (path === '/__dev/apps') return devRegisterApp(req, res, registerApp)
      if (interactionUid) return interaction(req, res, interactionUid)
      if (path !== prefix && !path.startsWith(`${prefix}/`)) return send(res, 404, 'Not Found')
      if (path === `${prefix}/token` && req.method === 'POST') await acceptOfflineAccessOnRefresh(req)
      // Mounted under the issuer's path: oidc-provider derives its mount point from originalUrl.
      Object.assign(req, { originalUrl: req.url, url: req.url!.slice(prefix.length) || '/' })
      return callback(req, res)
    }
    handle().catch((error) => {
      console.error('[idp]', error)
      if (!res.headersSent) send(res, 500, 'Internal Server Error')
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new Error(`Port ${port} is in use: is another identity provider (npm start) running?`) : error),
    )
    server.listen(port, '127.0.0.1', resolve)
  })

  return {
    port,
    issuer,
    registerApp,
    revokeAccount,
    suspend: () => stopListening(),
    resume: () =>
      new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => (server.off('error', reject), resolve()))),
    close: () => stopListening(),
  }

  function stopListening() {
    return new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()))
      server.closeAllConnections() // keep-alive sockets would hold close() open
    })
  }
}

/** An EHR system's confidential client: the client-credentials grant only, no redirect, no user. */
function appClient(app: { clientId: string; clientSecret: string }) {
  return {
    client_id: app.clientId,
    client_secret: app.clientSecret,
    redirect_uris: [],
    grant_types: ['client_credentials'],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  }
}

function accountClaims(account: DemoAccount) {
  return { oid: account.oid, tid: account.tid, preferred_username: account.email, name: account.name, ver: '2.0' }
}

async function loadSigningKey(path: string | undefined): Promise<JWK> {
  if (path && existsSync(path)) {
    const [key] = (JSON.parse(readFileSync(path, 'utf8')) as { keys: JWK[] }).keys
    if (key?.d && key.kid) return key
  }
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const jwk = await exportJWK(privateKey)
  const key = { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'RS256', use: 'sig' }
  if (path) {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, JSON.stringify({ keys: [key] }, null, 2), { mode: 0o600 })
  }
  return key
}

/** Per-provider in-memory storage (oidc-provider's own is process-wide and capped). */
function createStore() {
  const entries = new Map<string, { payload: Payload; expiresAt: number }>()
  const live = (key: string) => {
    const entry = entries.get(key)
    if (entry && entry.expiresAt < Date.now()) entries.delete(key)
    else return entry?.payload
  }
  const findWhere = (model: string, match: (payload: Payload) => boolean) => {
    for (const [key, { payload }] of entries) if (key.startsWith(`${model}:`) && match(payload)) return live(key)
  }
  const deleteWhere = (match: (payload: Payload, model: string) => boolean) => {
    for (const [key, { payload }] of entries) if (match(payload, key.slice(0, key.indexOf(':')))) entries.delete(key)
  }
  class Adapter {
    constructor(readonly model: string) {}
    async upsert(id: string, payload: Payload, expiresIn?: number) {
      entries.set(`${this.model}:${id}`, { payload, expiresAt: expiresIn ? Date.now() + (expiresIn + 60) * 1000 : Infinity })
    }
    async find(id: string) {
      return live(`${this.model}:${id}`)
    }
    async findByUid(uid: string) {
      return findWhere(this.model, (p) => p.uid === uid)
    }
    async findByUserCode(userCode: string) {
      return findWhere(this.model, (p) => p.userCode === userCode)
    }
    async consume(id: string) {
      Object.assign(live(`${this.model}:${id}`) ?? {}, { consumed: Math.floor(Date.now() / 1000) })
    }
    async destroy(id: string) {
      entries.delete(`${this.model}:${id}`)
    }
    async revokeByGrantId(grantId: string) {
      deleteWhere((p, model) => model === this.model && p.grantId === grantId)
    }
  }
  return { Adapter, deleteWhere }
}

async function devRevoke(req: IncomingMessage, res: ServerResponse, revokeAccount: (email: string) => Promise<void>) {
  const loopback = ['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(req.socket.remoteAddress ?? '')
  // Browsers label cross-site requests; test runners don't. Keeps random web pages from calling this.
  const fetchSite = req.headers['sec-fetch-site']
  if (!loopback || (fetchSite && fetchSite !== 'same-origin' && fetchSite !== 'none')) return send(res, 403, 'Forbidden')
  if (req.method !== 'POST') return send(res, 405, 'Method Not Allowed')
  const email = (await readForm(req)).get('email') ?? ''
  await revokeAccount(email).then(
    () => send(res, 200, { revoked: email }),
    (error: Error) => send(res, 404, { error: error.message }),
  )
}

/** Loopback only, like /__dev/revoke: tests register an app of their own, as a tenant admin would in Entra. */
async function devRegisterApp(
  req: IncomingMessage,
  res: ServerResponse,
  registerApp: (app: { clientId: string; clientSecret: string; roles: AppRole[] }) => Promise<void>,
) {
  const loopback = ['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(req.socket.remoteAddress ?? '')
  const fetchSite = req.headers['sec-fetch-site']
  if (!loopback || (fetchSite && fetchSite !== 'same-origin' && fetchSite !== 'none')) return send(res, 403, 'Forbidden')
  if (req.method !== 'POST') return send(res, 405, 'Method Not Allowed')
  const form = await readForm(req)
  const app = {
    clientId: form.get('clientId') ?? '',
    clientSecret: form.get('clientSecret') ?? '',
    roles: (form.get('roles') ?? '').split(' ').filter(Boolean) as AppRole[],
  }
  await registerApp(app).then(
    () => send(res, 200, { registered: app.clientId }),
    (error: Error) => send(res, 400, { error: error.message }),
  )
}

async function readForm(req: IncomingMessage) {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const raw = Buffer.concat(chunks).toString('utf8')
  if (!req.headers['content-type']?.includes('json')) return new URLSearchParams(raw)
  const json = JSON.parse(raw || '{}') as Record<string, unknown>
  return new URLSearchParams(Object.entries(json).map(([k, v]) => [k, String(v)]))
}

function send(res: ServerResponse, status: number, body: string | object) {
  const type = typeof body === 'object' ? 'application/json' : body.startsWith('<!doctype') ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8'
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' })
  res.end(typeof body === 'object' ? JSON.stringify(body) : body)
}

const esc = (value: unknown) => String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

function page(title: string, body: string) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · Local identity provider</title>
<style>body{font-family:system-ui,sans-serif;max-width:38rem;margin:2rem auto;padding:0 1rem;color:#1f2937}
label{display:block;margin:.75rem 0}input{display:block;width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{padding:.5rem 1rem;font-size:1rem;background:#1d4ed8;color:#fff;border:0;border-radius:.25rem}button.secondary{background:#e5e7eb;color:#1f2937}
.error{color:#b91c1c;font-weight:600}table{border-collapse:collapse;margin-top:1.5rem;width:100%}td,th{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #e5e7eb}</style>
</head><body><main>${body}</main></body></html>`
}

function loginPage(action: string, login = '', error?: string) {
  return page(
    'Sign in',
    `<h1>Sign in</h1>
<p>Local stand-in for Microsoft Entra ID. Every demo account's password is <code>${esc(DEMO_PASSWORD)}</code>.</p>
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="${esc(action)}">
<label>Email <input name="login" type="email" list="demo-accounts" autocomplete="username" required autofocus value="${esc(login)}"></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>
<datalist id="demo-accounts">${DEMO_ACCOUNTS.map((a) => `<option value="${esc(a.email)}">`).join('')}</datalist>
<table><thead><tr><th>Demo account</th><th>Name</th></tr></thead><tbody>
${DEMO_ACCOUNTS.map((a) => `<tr><td><code>${esc(a.email)}</code></td><td>${esc(a.name)}</td></tr>`).join('\n')}
</tbody></table>`,
  )
}
