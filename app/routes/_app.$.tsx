import { GeneralErrorBoundary } from '~/components/error-boundary'

/**
 * Any address the app has no page for, once signed in: a 404 inside the app's header and
 * navigation (the shell's loader runs first, so a signed-out visitor goes to sign-in and learns
 * nothing). The root's boundary would show the error on a bare page.
 */
export function loader(): never {
  throw new Response('Not found', { status: 404, statusText: 'Not Found' })
}

// A form posted to an unknown address is answered the same way, not with 405.
export function action(): never {
  throw new Response('Not found', { status: 404, statusText: 'Not Found' })
}

// Never rendered (the loader always throws); a route with a component shows its errors in the shell.
export default function NotFound() {
  return null
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
