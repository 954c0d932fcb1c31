/** The referral page's tabs: the referral itself, its documents, and (staff) who accessed it: nested routes. */
import { NavLink } from '@remix-run/react'

const tab = ({ isActive }: { isActive: boolean }) =>
  `-mb-px border-b-2 px-3 py-2 text-sm font-medium ${isActive ? 'border-brand-700 text-brand-800' : 'border-transparent text-slate-600 hover:text-slate-900'}`

export function ReferralTabs({ accessHistory }: { accessHistory: boolean }) {
  return (
    <nav aria-label="Referral views" className="mt-6 flex gap-2 border-b border-slate-200">
      <NavLink to="." end className={tab}>
        Referral
      </NavLink>
      <NavLink to="documents" className={tab}>
        Documents
      </NavLink>
      {accessHistory ? (
        <NavLink to="access" className={tab}>
          Who accessed this
        </NavLink>
      ) : null}
    </nav>
  )
}
