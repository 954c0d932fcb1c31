/**
 * Security headers for every response. The CSP is enforced (not report-only) and carries a
 * per-request nonce: the only scripts that run are Remix's own, which render with it.
 */
export function createNonce() {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return btoa(String.fromCharCode(...bytes))
}

export type CspOptions = {
  nonce: string
  /** Extra origins a form may post or redirect to (the identity provider). */
  formActionOrigins?: string[]
  /** Extra origins the page may fetch from (a clinic's local AI endpoint). */
  connectOrigins?: string[]
}

export function contentSecurityPolicy({ nonce, formActionOrigins = [], connectOrigins = [] }: CspOptions) {
  return [
    `default-src 'self'`,
    `script-src 'nonce-${nonce}' 'strict-dynamic'`,
    `style-src 'self' 'nonce-${nonce}'`,
    `img-src 'self' data:`,
    `font-src 'self'`,
    `connect-src ${["'self'", ...connectOrigins].join(' ')}`,
    `form-action ${["'self'", ...formActionOrigins].join(' ')}`,
    `frame-ancestors 'none'`,
    `base-uri 'none'`,
    `object-src 'none'`,
  ].join('; ')
}

export function applySecurityHeaders(headers: Headers, csp: CspOptions) {
  // A route may narrow or widen the CSP (the AI page adds its endpoint); it then sets its own.
  if (!headers.has('Content-Security-Policy')) headers.set('Content-Security-Policy', contentSecurityPolicy(csp))
  headers.set('Strict-Transport-Security', 'max-age=63072000; includeSubDomains')
  headers.set('X-Content-Type-Options', 'nosniff')
  headers.set('Referrer-Policy', 'same-origin')
  headers.set('X-Frame-Options', 'DENY')
  headers.set('Cross-Origin-Opener-Policy', 'same-origin')
  headers.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()')
  // Pages and data may hold PHI: never stored by browsers or shared caches.
  if (!headers.has('Cache-Control')) headers.set('Cache-Control', 'private, no-store')
}
