import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from '@remix-run/cloudflare'
import { Links, Meta, Outlet, Scripts, ScrollRestoration, useRouteLoaderData } from '@remix-run/react'
import { useEffect, type ReactNode } from 'react'
import { GeneralErrorBoundary } from './components/error-boundary'
import { useNonce } from './components/nonce'
import { MAIN_CONTENT, SkipLink } from './components/skip-link'
import tailwindHref from './tailwind.css?url'

export const links: LinksFunction = () => [
  { rel: 'stylesheet', href: tailwindHref },
  { rel: 'icon', href: '/favicon.svg', type: 'image/svg+xml' },
]

export const meta: MetaFunction = () => [{ title: 'IntakePilot' }]

export async function loader({ context }: LoaderFunctionArgs) {
  return { requestId: context.requestId }
}

export function Layout({ children }: { children: ReactNode }) {
  const nonce = useNonce()
  // Says that React has taken the page over (its handlers are attached): the browser tests wait for it
  // before they type into a page whose checks run in the browser.
  useEffect(() => {
    document.documentElement.dataset.hydrated = 'true'
  }, [])
  return (
    <html lang="en" className="h-full">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body className="h-full">
        <SkipLink />
        {children}
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  )
}

export default function App() {
  return <Outlet />
}

export function ErrorBoundary() {
  // Outside the app shell (it failed, or the page is not one of its own): the skip link's target is here.
  return (
    <div id={MAIN_CONTENT} tabIndex={-1}>
      <GeneralErrorBoundary />
    </div>
  )
}

export const useRootData = () => useRouteLoaderData<typeof loader>('root')
