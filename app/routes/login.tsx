import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { redirect } from '@remix-run/cloudflare'
import { Form, useLoaderData, useNavigation } from '@remix-run/react'
import { safeRedirect } from '~/utils/misc'
import { MAIN_CONTENT } from '~/components/skip-link'

export const meta: MetaFunction = () => [{ title: 'Sign in · IntakePilot' }]

const MESSAGES: Record<string, { tone: 'info' | 'warn'; text: string }> = {
  expired: { tone: 'info', text: 'Your session has ended. Sign in again to continue where you were.' },
  disabled: { tone: 'warn', text: 'Your account has been disabled. Contact your clinic administrator.' },
  'signed-out': { tone: 'info', text: 'You have signed out.' },
  cancelled: { tone: 'info', text: 'Sign-in was cancelled.' },
  failed: { tone: 'warn', text: 'Sign-in did not complete. Please try again.' },
}

export async function loader({ request, context }: LoaderFunctionArgs) {
  const url = new URL(request.url)
  const redirectTo = safeRedirect(url.searchParams.get('redirectTo'), '/')
  if (context.user) throw redirect(redirectTo)
  const reason = url.searchParams.get('reason') ?? context.sessionEnded ?? ''
  return { redirectTo, message: MESSAGES[reason] ?? null }
}

export default function Login() {
  const { redirectTo, message } = useLoaderData<typeof loader>()
  const navigation = useNavigation()
  const pending = navigation.state !== 'idle'
  return (
    <main id={MAIN_CONTENT} tabIndex={-1} className="flex min-h-full items-center justify-center px-6 py-16">
      <div className="w-full max-w-sm">
        <p className="text-sm font-semibold uppercase tracking-wide text-brand-700">IntakePilot</p>
        <h1 className="mt-2 text-2xl font-semibold tracking-tight">Sign in</h1>
        <p className="mt-2 text-slate-600">Use your organisation&apos;s Microsoft account.</p>
        {message ? (
          <p
            role="status"
            className={`mt-6 rounded-md border px-3 py-2 text-sm ${
              message.tone === 'warn' ? 'border-amber-300 bg-amber-50 text-amber-900' : 'border-slate-200 bg-white text-slate-700'
            }`}
          >
            {message.text}
          </p>
        ) : null}
        <Form method="post" action="/auth/microsoft" reloadDocument className="mt-6">
          <input type="hidden" name="redirectTo" value={redirectTo} />
          <button
            type="submit"
            disabled={pending}
            className="flex w-full items-center justify-center gap-3 rounded-md bg-brand-700 px-4 py-2.5 font-medium text-white shadow-sm hover:bg-brand-800 disabled:opacity-60"
          >
            <MicrosoftLogo />
            {pending ? 'Redirecting…' : 'Sign in with Microsoft'}
          </button>
        </Form>
        <p className="mt-6 text-xs text-slate-500">Access is by invitation from your clinic. Every access to patient information is recorded.</p>
      </div>
    </main>
  )
}

function MicrosoftLogo() {
  return (
    <svg aria-hidden="true" width="18" height="18" viewBox="0 0 21 21">
      <rect x="1" y="1" width="9" height="9" fill="#f25022" />
      <rect x="11" y="1" width="9" height="9" fill="#7fba00" />
      <rect x="1" y="11" width="9" height="9" fill="#00a4ef" />
      <rect x="11" y="11" width="9" height="9" fill="#ffb900" />
    </svg>
  )
}
