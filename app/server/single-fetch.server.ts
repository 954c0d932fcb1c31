/**
 * Refusals the pipeline makes before Remix runs (429, 503, 500) are HTML pages. A browser that
 * is already in the app asks for data, not pages: Remix's client fetches `<path>.data` and can
 * only read its own encoding (turbo-stream), so an HTML body there ends in the generic error
 * boundary. Such a request gets instead what Remix itself sends for a redirect with
 * `X-Remix-Reload-Document`: the client leaves the app and loads the page as a document, which
 * brings the same friendly page (and its Retry-After) as a first visit would.
 */
import { encode } from 'turbo-stream'

const REDIRECT = Symbol('single fetch redirect')

/** A single-fetch data request (`/queue.data`, `/_root.data` for `/`). */
export const isSingleFetchRequest = (url: URL) => url.pathname.endsWith('.data')

/** The page a single-fetch request was made for. */
export function documentUrlOf(url: URL) {
  const pathname = url.pathname === '/_root.data' ? '/' : url.pathname.replace(/\.data$/, '')
  const search = new URLSearchParams(url.search)
  search.delete('_routes')
  const query = search.toString()
  return `${pathname}${query ? `?${query}` : ''}`
}

/** Remix's single-fetch redirect (status 202, turbo-stream), asking the client to reload as a document. */
export function reloadAsDocument(url: URL, headers?: HeadersInit): Response {
  const redirect = { redirect: documentUrlOf(url), status: 302, revalidate: false, reload: true, replace: true }
  const body = encode(
    { [REDIRECT]: redirect },
    {
      // The same plugin type Remix's server encodes its redirects with (@remix-run/server-runtime single-fetch).
      plugins: [
        (value: unknown) =>
          value && typeof value === 'object' && REDIRECT in value ? ['SingleFetchRedirect', (value as Record<symbol, unknown>)[REDIRECT]] : false,
      ],
    },
  )
  const response = new Response(body, { status: 202, headers })
  response.headers.set('Content-Type', 'text/x-script')
  response.headers.set('X-Remix-Response', 'yes')
  return response
}
