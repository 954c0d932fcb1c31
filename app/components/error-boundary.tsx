import { isRouteErrorResponse, useRouteError, useRouteLoaderData } from '@remix-run/react'

/**
 * The one error boundary: a friendly message and the request id to quote to support.
 * Never a stack trace or an error message (they can carry PHI).
 */
export function GeneralErrorBoundary() {
  const error = useRouteError()
  const root = useRouteLoaderData<{ requestId?: string }>('root')
  const status = isRouteErrorResponse(error) ? error.status : 500
  const signInDown = isRouteErrorResponse(error) && (error.data as { reason?: unknown } | null)?.reason === 'sign-in-unavailable'
  const { title, message } = signInDown
    ? { title: 'Sign-in is unavailable', message: 'IntakePilot cannot reach the sign-in service right now. Please try again in a moment.' }
    : describe(status)
  return (
    // The alert sits inside the main landmark: on <main> itself it would replace the landmark.
    <main className="mx-auto max-w-xl px-6 py-16">
      <div role="alert">
        <p className="text-sm font-semibold text-brand-700">Error {status}</p>
        <h1 className="mt-2 text-2xl font-semibold tracking-tight">{title}</h1>
        <p className="mt-3 text-slate-600">{message}</p>
        {root?.requestId ? (
          <p className="mt-6 text-sm text-slate-500">
            Reference for support: <code className="rounded bg-slate-100 px-1.5 py-0.5 text-slate-700">{root.requestId}</code>
          </p>
        ) : null}
        <p className="mt-8">
          <a className="font-medium text-brand-700 underline" href="/">
            Back to IntakePilot
          </a>
        </p>
      </div>
    </main>
  )
}

function describe(status: number) {
  switch (status) {
    case 400:
      return { title: 'That request could not be understood', message: 'Check what you entered and try again.' }
    case 403:
      return { title: 'Not allowed', message: 'Your account does not have access to this page.' }
    case 404:
      return { title: 'Not found', message: 'There is nothing here, or you do not have access to it.' }
    case 405:
      return { title: 'This page does not do that', message: 'Nothing was changed. Go back and use the page’s own buttons.' }
    case 408:
      return { title: 'What was sent took too long to arrive', message: 'Nothing was saved. Check your connection and send it again.' }
    case 413:
      return { title: 'What was sent is too large', message: 'Nothing was saved. Shorten the longest text and send it again.' }
    case 415:
      return { title: 'This address takes forms only', message: 'Nothing was saved. Go back and use the page’s own form.' }
    case 429:
      return { title: 'Too many requests', message: 'Please wait a minute, then try again.' }
    case 503:
      return { title: 'Temporarily unavailable', message: 'IntakePilot cannot reach its database right now. Please try again shortly.' }
    default:
      return { title: 'Something went wrong', message: 'Please try again. If it keeps happening, contact support with the reference below.' }
  }
}
