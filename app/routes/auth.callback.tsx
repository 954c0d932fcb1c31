import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { data, redirect } from '@remix-run/cloudflare'
import { useLoaderData } from '@remix-run/react'
import type { OAuth2Tokens } from 'arctic'
import { Authenticator } from 'remix-auth'
import { createEntraStrategy, IdTokenError, nonceFor, nonceSecret, oidcConfig, verifyIdToken } from '~/auth/oidc.server'
import { homeFor } from '~/auth/permissions'
import { readRedirectTo, redirectToCookie } from '~/auth/redirect-cookie.server'
import { sealSession, sessionSetCookie, startServerSession } from '~/auth/session.server'
import { readCookie } from '~/auth/session.server'
import { recordAudit } from '~/audit/audit.server'
import { signInUser, type SigningInUser } from '~/users/sign-in.server'
import { MAIN_CONTENT } from '~/components/skip-link'

export const meta: MetaFunction = () => [{ title: 'Sign-in · IntakePilot' }]

/**
 * The provider sends the user back here with a code: exchange it (PKCE), verify the ID
 * token ourselves, map (tid, oid) to a provisioned user, then start the session.
 * No account is ever created here; every refusal is recorded as `login.denied`.
 */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const { env } = context
  const url = new URL(request.url)
  if (url.searchParams.get('error')) throw redirect('/login?reason=cancelled')

  let tokens: OAuth2Tokens
  try {
    const authenticator = new Authenticator<OAuth2Tokens>()
    authenticator.use(await createEntraStrategy<OAuth2Tokens>(env, request, async ({ tokens }) => tokens), 'microsoft')
    tokens = await authenticator.authenticate('microsoft', request)
  } catch {
    // A stale or forged state, a replayed code, or a provider that refused the exchange.
    throw redirect('/login?reason=failed')
  }

  const denied = async (reason: string, user?: SigningInUser) => {
    const scope = { clinicId: user?.clinic_id ?? null, userId: user?.id ?? null, role: user?.role ?? null }
    await context.db.withScope(scope).tenant((tx) =>
      recordAudit(tx, scope, context.auditRequest, {
        action: 'login.denied',
        entityType: 'user',
        entityId: user?.id,
        outcome: 'denied',
        details: { reason },
      }),
    )
    return data({ reason }, { status: reason === 'not-provisioned' || reason === 'disabled' ? 403 : 401, headers: clearFlowCookies(request, env) })
  }

  const config = oidcConfig(env, request)
  let identity
  try {
    identity = await verifyIdToken(tokens.idToken(), {
      authority: config.authority,
      clientId: config.clientId,
      allowedTenants: config.allowedTenants,
      nonce: await nonceFor(url.searchParams.get('state') ?? '', nonceSecret(env)),
    })
  } catch (error) {
    return denied(error instanceof IdTokenError ? `id-token-${error.reason}` : 'id-token-invalid')
  }

  const user = await signInUser(context, identity)
  if (!user) return denied('not-provisioned')
  if (user.status !== 'active') return denied('disabled', user)
  if (!tokens.hasRefreshToken()) return denied('no-refresh-token', user)

  const now = Math.floor(Date.now() / 1000)
  const scope = { clinicId: user.clinic_id, userId: user.id, role: user.role }
  const started = await context.db.withScope(scope).tenant(async (tx) => {
    const session = await startServerSession(tx, user.id)
    await recordAudit(tx, scope, context.auditRequest, { action: 'login', entityType: 'user', entityId: user.id })
    return session
  })
  const cookie = await sealSession(env, {
    sid: started.sid,
    uid: user.id,
    cid: null,
    rt: tokens.refreshToken(),
    at: now + tokens.accessTokenExpiresInSeconds(),
    end: started.end,
  })

  const headers = clearFlowCookies(request, env)
  headers.append('Set-Cookie', sessionSetCookie(env, cookie))
  const target = readRedirectTo(env, request)
  throw redirect(target === '/' ? homeFor(user.role) : target, { headers })
}

/** The PKCE state and the remembered page are single-use. */
function clearFlowCookies(request: Request, env: Parameters<typeof redirectToCookie>[0]) {
  const headers = new Headers()
  headers.append('Set-Cookie', redirectToCookie(env, null))
  for (const part of (request.headers.get('Cookie') ?? '').split(';')) {
    const name = part.trim().split('=')[0] ?? ''
    if (name.includes('intakepilot_oauth') && readCookie(request, name) !== undefined) {
      headers.append('Set-Cookie', `${name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${name.startsWith('__Host-') ? '; Secure' : ''}`)
    }
  }
  return headers
}

const EXPLANATIONS: Record<string, { title: string; text: string }> = {
  'not-provisioned': {
    title: 'Your account is not set up in IntakePilot',
    text: 'You signed in with Microsoft, but no clinic has invited this account. Ask the clinic you work with to invite you, then sign in again.',
  },
  disabled: {
    title: 'Your account is disabled',
    text: 'Your clinic has disabled this account. Contact your clinic administrator if you need access again.',
  },
}

export default function SignInRefused() {
  const { reason } = useLoaderData<typeof loader>()
  const explanation = EXPLANATIONS[reason] ?? {
    title: 'Sign-in was refused',
    text: 'The sign-in response could not be verified, or your organisation is not allowed to use this IntakePilot. Nothing was saved.',
  }
  return (
    <main id={MAIN_CONTENT} tabIndex={-1} className="mx-auto max-w-lg px-6 py-16">
      <div role="alert">
        <p className="text-sm font-semibold uppercase tracking-wide text-brand-700">IntakePilot</p>
        <h1 className="mt-2 text-2xl font-semibold tracking-tight">{explanation.title}</h1>
        <p className="mt-3 text-slate-600">{explanation.text}</p>
        <p className="mt-8">
          <a className="font-medium text-brand-700 underline" href="/login">
            Back to sign-in
          </a>
        </p>
      </div>
    </main>
  )
}
