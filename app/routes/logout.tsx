import type { ActionFunctionArgs } from '@remix-run/cloudflare'
import { redirect } from '@remix-run/cloudflare'
import { discover, oidcConfig } from '~/auth/oidc.server'
import { sessionSetCookie } from '~/auth/session.server'

/**
 * Sign-out: record it, clear the session, then end the session at the provider too, which
 * sends the user back to our sign-in page. POST only, so a link cannot sign anyone out.
 */
export async function action({ request, context }: ActionFunctionArgs) {
  const { env } = context
  if (context.user) await context.db.tenant((tx) => context.audit(tx, { action: 'logout', entityType: 'user', entityId: context.user!.id }))
  const headers = { 'Set-Cookie': sessionSetCookie(env, null) }
  const config = oidcConfig(env, request)
  const endSession = await discover(config.authority).then((d) => d.end_session_endpoint).catch(() => undefined)
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
