import type { ActionFunctionArgs } from '@remix-run/cloudflare'
import { redirect } from '@remix-run/cloudflare'
import { discover, oidcConfig } from '~/auth/oidc.server'
import { endServerSession, sessionSetCookie } from '~/auth/session.server'
import { clearDraft } from '~/referrals/draft.server'

/**
 * Sign-out: end the server-side session (its cookie, replayed, signs nobody in) and record it,
 * clear the session cookie and any referral draft kept in this browser, then end the session at
 * the provider too, which sends the user back to our sign-in page. POST only, so a link cannot
 * sign anyone out.
 */
export async function action({ request, context }: ActionFunctionArgs) {
  const { env } = context
  const { user, session } = context
  if (user && session) {
    await context.db.tenant(async (tx) => {
      await endServerSession(tx, session.sid)
      await context.audit(tx, { action: 'logout', entityType: 'user', entityId: user.id })
    })
  }
  const headers = new Headers([['Set-Cookie', sessionSetCookie(env, null)]])
  for (const cookie of clearDraft(env, request)) headers.append('Set-Cookie', cookie)
  const config = oidcConfig(env, request)
  const endSession = await discover(config.authority)
    .then((d) => d.end_session_endpoint)
    .catch(() => undefined)
  const back = `${env.APP_ORIGIN ?? new URL(request.url).origin}/login`
  if (!endSession) throw redirect('/login?reason=signed-out', { headers })
  const url = new URL(endSession)
  url.searchParams.set('client_id', config.clientId)
  url.searchParams.set('post_logout_redirect_uri', back)
  throw redirect(url.toString(), { headers })
}

export async function loader() {
  return redirect('/')
}
