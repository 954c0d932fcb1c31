/**
 * A minimal Entra-shaped OpenID issuer on 127.0.0.1 for ID-token tests: discovery per tenant
 * path, a JWKS with one RS256 key, and a request log so tests can count JWKS fetches.
 *
 * Tenant paths `common` and `organizations` publish the multi-tenant issuer
 * `.../{tenantid}/v2.0`, as Entra does; any other path publishes `.../<path>/v2.0`.
 */
import { createServer, type Server } from 'node:http'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose'
import { freePort } from './free-port'

export type FakeIssuer = {
  origin: string
  /** The authority (what OIDC_AUTHORITY would hold) for a tenant path. */
  authority: (tenant: string) => string
  /** The `iss` a token for this tenant id carries. */
  issuerFor: (tid: string) => string
  /** Paths requested so far, in order. */
  requests: string[]
  jwksRequests: () => number
  kid: string
  publicKey: CryptoKey
  publicJwk: JWK
  /** Signs with the published key (or `key`/`kid` to sign with something else). */
  sign: (claims: JWTPayload, options?: { key?: CryptoKey; kid?: string }) => Promise<string>
  close: () => Promise<void>
}

const MULTI_TENANT = new Set(['common', 'organizations'])

export async function startFakeIssuer(): Promise<FakeIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
  const kid = `test-key-${Math.random().toString(36).slice(2, 10)}`
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const requests: string[] = []

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', origin).pathname
    requests.push(path)
    const json = (body: unknown) => {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const discovery = path.match(/^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/)
    if (discovery) {
      const tenant = discovery[1]!
      return json({
        issuer: `${origin}/${MULTI_TENANT.has(tenant) ? '{tenantid}' : tenant}/v2.0`,
        authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/authorize`,
        token_endpoint: `${origin}/${tenant}/oauth2/v2.0/token`,
        jwks_uri: `${origin}/${tenant}/discovery/v2.0/keys`,
        id_token_signing_alg_values_supported: ['RS256'],
      })
    }
    if (/^\/[^/]+\/discovery\/v2\.0\/keys$/.test(path)) return json({ keys: [publicJwk] })
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))

  return {
    origin,
    authority: (tenant) => `${origin}/${tenant}/v2.0`,
    issuerFor: (tid) => `${origin}/${tid}/v2.0`,
    requests,
    jwksRequests: () => requests.filter((p) => p.endsWith('/discovery/v2.0/keys')).length,
    kid,
    publicKey,
    publicJwk,
    sign: (claims, options = {}) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: options.kid ?? kid }).sign(options.key ?? privateKey),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
