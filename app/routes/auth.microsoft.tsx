import type { ActionFunctionArgs } from '@remix-run/cloudflare'
import { redirect } from '@remix-run/cloudflare'
import { Authenticator } from 'remix-auth'
import { createEntraStrategy, SignInUnavailableError, signInUnavailable } from '~/auth/oidc.server'
import { redirectToCookie } from '~/auth/redirect-cookie.server'
import { safeRedirect } from '~/utils/misc'

/** Starts the authorization-code + PKCE flow at Entra ID (or the local provider). */
export async function action({ request, context }: ActionFunctionArgs) {
  // The strategy reads the request again: parse a copy.
  const form = await request.clone().formData()
  const redirectTo = safeRedirect(form.get('redirectTo'), '/')
  const authenticator = new Authenticator<never>()
  const strategy = await createEntraStrategy<never>(context.env, request, async () => {
    throw new Error('not a callback')
  }).catch((error) => {
    throw error instanceof SignInUnavailableError ? signInUnavailable() : error
  })
  authenticator.use(strategy, 'microsoft')
  try {
    await authenticator.authenticate('microsoft', request)
  } catch (thrown) {
    if (thrown instanceof Response && thrown.status === 302) {
      const headers = new Headers(thrown.headers)
      headers.append('Set-Cookie', redirectToCookie(context.env, redirectTo))
      return new Response(null, { status: 302, headers })
    }
    throw thrown
  }
  throw redirect('/login?reason=failed')
}

export async function loader() {
  return redirect('/login')
}
