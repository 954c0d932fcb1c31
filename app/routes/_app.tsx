import type { LoaderFunctionArgs } from '@remix-run/cloudflare'
import { Form, Link, NavLink, Outlet, useLoaderData, useLocation } from '@remix-run/react'
import { aiEndpointFor } from '~/ai/endpoint.server'
import { requireUser } from '~/auth/guards.server'
import { hasPermission } from '~/auth/permissions'
import { GeneralErrorBoundary } from '~/components/error-boundary'
import { MAIN_CONTENT } from '~/components/skip-link'
import { Button, buttonClass } from '~/components/ui/button'
import { Input, Select } from '~/components/ui/control'
import { switchableClinics } from '~/users/clinic-switch.server'
import { clinicTimeZone } from '~/utils/clinic-time'
import type { UserRole } from '~/db/schema'

/** The signed-in shell: header with the clinic, navigation by role, the superadmin's clinic menu. */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = requireUser(request, context)
  // The current clinic came with the user (request_start); only the superadmin's menu needs a query
  // (RLS: a superadmin sees every clinic).
  const current = context.clinic
  const switchable = hasPermission(user, 'switch:clinic:any') ? await switchableClinics(context) : null
  // Staff pages may reach the local AI server (and only it): the CSP of every page they load
  // says so, since a page reached by client-side navigation keeps its document's CSP.
  if (current && hasPermission(user, 'generate:summary:any')) context.allowConnectTo(aiEndpointFor(user, current.settings).origin)
  return {
    user: { displayName: user.displayName, email: user.email, role: user.role },
    clinic: current ? { id: current.id, name: current.name, slug: current.slug } : null,
    switchable,
    // Every page shows times in the clinic's zone (app/utils/use-clinic-time.ts reads it here).
    timeZone: clinicTimeZone(current?.settings),
  }
}

export default function AppShell() {
  const { user, clinic, switchable } = useLoaderData<typeof loader>()
  const nav = navigationFor(user.role)
  return (
    <div className="min-h-full">
      <header className="border-b border-slate-200 bg-white print:hidden">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3 sm:px-6">
          <Link to="/" className="font-semibold text-brand-700">
            IntakePilot
          </Link>
          <span className="text-sm text-slate-500" data-testid="current-clinic">
            {clinic ? clinic.name : 'No clinic selected'}
          </span>
          <nav aria-label="Main" className="flex flex-wrap gap-1">
            {nav.map((item) => (
              <NavLink
                key={item.to}
                to={item.to}
                end={item.to === '/'}
                className={({ isActive }) =>
                  `rounded-md px-3 py-1.5 text-sm font-medium ${isActive ? 'bg-brand-50 text-brand-800' : 'text-slate-600 hover:bg-slate-100'}`
                }
              >
                {item.label}
              </NavLink>
            ))}
          </nav>
          <div className="ml-auto flex flex-wrap items-center gap-3">
            {switchable ? <ClinicMenu clinics={switchable} currentId={clinic?.id ?? null} /> : null}
            <span className="text-sm text-slate-700" title={user.email}>
              {user.displayName} <span className="text-slate-500">· {user.role}</span>
            </span>
            <Form method="post" action="/logout">
              <Button type="submit">Sign out</Button>
            </Form>
          </div>
        </div>
      </header>
      {/* Where the skip link leads: past the header and navigation, to the page (or its error). */}
      <div id={MAIN_CONTENT} tabIndex={-1} className="outline-none">
        <Outlet />
      </div>
    </div>
  )
}

/** Works without JavaScript: a disclosure with a form that asks for the reason. */
function ClinicMenu({ clinics, currentId }: { clinics: { id: string; name: string }[]; currentId: string | null }) {
  const location = useLocation()
  return (
    <details className="relative" data-testid="clinic-menu">
      <summary className={buttonClass({ className: 'cursor-pointer list-none' })}>Switch clinic</summary>
      <Form method="post" action="/clinics" className="absolute right-0 z-10 mt-2 w-80 space-y-3 rounded-lg border border-slate-200 bg-white p-4 shadow-lg">
        <input type="hidden" name="redirectTo" value={location.pathname.startsWith('/clinics') ? '/' : location.pathname} />
        <label htmlFor="clinic-menu-clinic" className="block text-sm font-medium">
          Clinic
        </label>
        <Select id="clinic-menu-clinic" name="clinicId" defaultValue={currentId ?? ''} required className="mt-1 block w-full">
          <option value="" disabled>
            Choose a clinic
          </option>
          {clinics.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </Select>
        <label htmlFor="clinic-menu-reason" className="block text-sm font-medium">
          Reason (recorded in the clinic&apos;s audit trail)
        </label>
        <Input id="clinic-menu-reason" name="reason" required minLength={5} maxLength={200} className="mt-1 block w-full" />
        <Button type="submit" variant="primary" size="md" className="w-full">
          Switch
        </Button>
      </Form>
    </details>
  )
}

function navigationFor(role: UserRole) {
  const items = [{ to: '/', label: 'Home' }]
  if (role === 'referrer')
    items.push({ to: '/my-referrals', label: 'My referrals' }, { to: '/referrals/new', label: 'New referral' }, { to: '/profile', label: 'Profile' })
  else items.push({ to: '/queue', label: 'Queue' }, { to: '/referrals/inbound', label: 'New inbound referral' }, { to: '/turnaround', label: 'Turnaround' })
  if (role === 'admin' || role === 'superadmin') items.push({ to: '/admin/users', label: 'Users' })
  if (role === 'admin' || role === 'superadmin') items.push({ to: '/admin/intake-form', label: 'Intake form' })
  if (role === 'admin' || role === 'superadmin') items.push({ to: '/admin/audit', label: 'Audit' })
  if (hasPermission({ role }, 'read:disclosures:any')) items.push({ to: '/admin/disclosures', label: 'Disclosures' })
  if (role === 'admin' || role === 'superadmin') items.push({ to: '/admin/documents', label: 'Document limits' })
  if (role === 'admin' || role === 'superadmin') items.push({ to: '/admin/clinic', label: 'Clinic settings' })
  if (role === 'admin' || role === 'superadmin') items.push({ to: '/admin/integrations', label: 'Integrations' })
  if (role === 'admin' || role === 'superadmin') items.push({ to: '/admin/email', label: 'Email sent' })
  if (role !== 'superadmin') items.push({ to: '/settings/notifications', label: 'Notifications' })
  return items
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
