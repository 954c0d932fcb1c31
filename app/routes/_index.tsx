import type { MetaFunction } from '@remix-run/cloudflare'

export const meta: MetaFunction = () => [
  { title: 'IntakePilot · Referral intake for clinics' },
  { name: 'description', content: 'Receive, triage and track patient referrals securely.' },
]

export default function Index() {
  return (
    <main className="mx-auto flex min-h-full max-w-3xl flex-col justify-center px-6 py-16">
      <p className="text-sm font-semibold uppercase tracking-wide text-brand-700">IntakePilot</p>
      <h1 className="mt-3 text-4xl font-semibold tracking-tight text-slate-900">
        Patient referrals, received and worked in one place.
      </h1>
      <p className="mt-4 text-lg text-slate-600">
        Referring offices submit on a secure form and follow each referral&apos;s status. Your staff triage a
        single queue. Every access to patient information is recorded.
      </p>
      <div className="mt-8 flex gap-3">
        <a
          href="/login"
          className="rounded-md bg-brand-700 px-4 py-2.5 font-medium text-white shadow-sm hover:bg-brand-800"
        >
          Sign in with Microsoft
        </a>
      </div>
    </main>
  )
}
