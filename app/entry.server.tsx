import type { AppLoadContext, EntryContext, HandleDataRequestFunction, HandleErrorFunction } from '@remix-run/cloudflare'
import { RemixServer } from '@remix-run/react'
import { isbot } from 'isbot'
import { renderToReadableStream } from 'react-dom/server'
import { NonceProvider } from './components/nonce'
import { isProduction } from './utils/env.server'
import { logError } from './utils/log.server'

const ABORT_DELAY = 5_000

export default async function handleRequest(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  remixContext: EntryContext,
  loadContext: AppLoadContext,
) {
  const controller = new AbortController()
  const timeout = setTimeout(() => controller.abort(), ABORT_DELAY)
  const body = await renderToReadableStream(
    <NonceProvider value={loadContext.nonce}>
      <RemixServer context={remixContext} url={request.url} abortDelay={ABORT_DELAY} nonce={loadContext.nonce} />
    </NonceProvider>,
    {
      nonce: loadContext.nonce,
      signal: controller.signal,
      onError(error: unknown) {
        if (!controller.signal.aborted) logError(loadContext.requestId, error, 'render')
        responseStatusCode = 500
      },
    },
  )
  // A failed render is logged by onError; either way the abort timer is no longer needed.
  body.allReady.then(
    () => clearTimeout(timeout),
    () => clearTimeout(timeout),
  )
  if (isbot(request.headers.get('user-agent') || '')) await body.allReady

  responseHeaders.set('Content-Type', 'text/html; charset=utf-8')
  withSessionCookie(responseHeaders, loadContext)
  return new Response(body, { headers: responseHeaders, status: responseStatusCode })
}

/** Client navigations (single fetch) get a refreshed session cookie too. */
export const handleDataRequest: HandleDataRequestFunction = (response, { context }) => {
  withSessionCookie(response.headers, context)
  return response
}

/**
 * A session refreshed (or ended) for this request goes out with the response, unless the
 * route set the session cookie itself (sign-in, clinic switch, sign-out).
 */
function withSessionCookie(headers: Headers, context: AppLoadContext) {
  if (!context.sessionCookie) return
  const name = context.sessionCookie.split('=')[0]
  if (headers.getSetCookie().some((c) => c.startsWith(`${name}=`))) return
  headers.append('Set-Cookie', context.sessionCookie)
}

export const handleError: HandleErrorFunction = (error, { request, context }) => {
  if (request.signal.aborted) return
  // Thrown responses (404, 403, redirects) are answers, not errors.
  if (error instanceof Response || (error && typeof error === 'object' && 'status' in error && 'statusText' in error)) return
  // The database away is a 503 (try again), not a bug: the pipeline replaces the 500 Remix renders.
  context.noteFailure(error)
  logError(context.requestId, error, 'loader/action', { verbose: !isProduction(context.env) })
}
