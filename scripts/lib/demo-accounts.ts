/**
 * The demo directory shared by the local identity provider (who can sign in) and the seed
 * (who is provisioned in IntakePilot). Ids are fixed so that a reseeded database and a
 * restarted provider agree on every (tid, oid).
 */
import type { UserRole, UserStatus } from '../../app/db/schema'

export const DEMO_PASSWORD = 'intakepilot'
/** The Entra tenant (`tid`) the local provider issues tokens for. */
export const DEMO_TENANT_ID = '9b1c2d3e-4f50-4a6b-8c7d-0e1f2a3b4c5d'
/** A tenant not on the allow-list, for refusal tests. */
export const FOREIGN_TENANT_ID = '00000000-0000-4000-8000-00000000dead'

export const DEMO_CLINICS = [
  { slug: 'northside', name: 'Northside Physiotherapy' },
  { slug: 'lakeview', name: 'Lakeview Orthopaedics' },
  { slug: 'riverbend', name: 'Riverbend Sleep Clinic' },
] as const

export type DemoAccount = {
  email: string
  name: string
  /** Entra object id. */
  oid: string
  tid: string
  /** null: known to the identity provider but not provisioned in IntakePilot. */
  clinicSlug: string | null
  role: UserRole | null
  status: UserStatus | null
  organization?: string
}

// Deterministic, valid v4-shaped UUIDs from a small number.
const oid = (n: number) => `0000${n.toString(16).padStart(4, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`

const clinicAccounts = DEMO_CLINICS.flatMap((clinic, c): DemoAccount[] => {
  const base = 100 * (c + 1)
  const clinicName = clinic.name.split(' ')[0]
  return [
    { email: `admin@${clinic.slug}.test`, name: `${clinicName} Admin`, role: 'admin', status: 'active', n: base + 1 },
    { email: `staff@${clinic.slug}.test`, name: `${clinicName} Intake Coordinator`, role: 'staff', status: 'active', n: base + 2 },
    {
      email: `referrer@${clinic.slug}.test`,
      name: 'Dr. Amara Okafor',
      role: 'referrer',
      status: 'active',
      n: base + 3,
      organization: 'Maple Family Health Team',
    },
    {
      email: `referrer2@${clinic.slug}.test`,
      name: 'Dr. Luis Fernandes',
      role: 'referrer',
      status: 'active',
      n: base + 4,
      organization: 'Harbourfront Walk-in Clinic',
    },
    { email: `disabled@${clinic.slug}.test`, name: `${clinicName} Former Staff`, role: 'staff', status: 'disabled', n: base + 5 },
  ].map(({ n, ...a }) => ({
    ...a,
    role: a.role as UserRole,
    status: a.status as UserStatus,
    oid: oid(n),
    tid: DEMO_TENANT_ID,
    clinicSlug: clinic.slug,
  }))
})

export const DEMO_ACCOUNTS: DemoAccount[] = [
  {
    email: 'superadmin@intakepilot.test',
    name: 'IntakePilot Superadmin',
    oid: oid(1),
    tid: DEMO_TENANT_ID,
    clinicSlug: null,
    role: 'superadmin',
    status: 'active',
  },
  ...clinicAccounts,
  // Spends their whole rate-limit budget in tests/e2e/rate-limit-page.spec.ts: no other test uses them.
  {
    email: 'busy@riverbend.test',
    name: 'Riverbend Night Coordinator',
    oid: oid(5),
    tid: DEMO_TENANT_ID,
    clinicSlug: 'riverbend',
    role: 'staff',
    status: 'active',
  },
  // Sends a body that never arrives in tests/e2e/request-bounds.spec.ts, which counts their
  // requests: no other test uses them.
  {
    email: 'unhurried@lakeview.test',
    name: 'Lakeview Weekend Coordinator',
    oid: oid(6),
    tid: DEMO_TENANT_ID,
    clinicSlug: 'lakeview',
    role: 'staff',
    status: 'active',
  },
  // Known to the provider only: tests/e2e/fhir-reads.spec.ts provisions them as staff of a clinic
  // of their own, with a few thousand referrals to page through, that no other test sees.
  { email: 'pager@fhir.test', name: 'FHIR Paging Coordinator', oid: oid(7), tid: DEMO_TENANT_ID, clinicSlug: null, role: null, status: null },
  // Signs in at the provider, but no clinic has provisioned them.
  { email: 'stranger@intakepilot.test', name: 'Unprovisioned Person', oid: oid(2), tid: DEMO_TENANT_ID, clinicSlug: null, role: null, status: null },
  // Known to the provider but not yet to IntakePilot: a clinic admin invites them by email,
  // and their first sign-in binds the invitation to their (tid, oid).
  { email: 'newhire@lakeview.test', name: 'Nadia Newhire', oid: oid(4), tid: DEMO_TENANT_ID, clinicSlug: null, role: null, status: null },
  // Provisioned nowhere, and from a tenant that is not on the allow-list.
  { email: 'outsider@elsewhere.test', name: 'Foreign Tenant User', oid: oid(3), tid: FOREIGN_TENANT_ID, clinicSlug: null, role: null, status: null },
]

export const findDemoAccount = (email: string) => DEMO_ACCOUNTS.find((a) => a.email.toLowerCase() === email.trim().toLowerCase())

/**
 * The app roles IntakePilot's API registration exposes, as Entra puts them in an app-only token's
 * `roles` claim (docs/decisions/058-ehr-integrations-app-only-tokens.md).
 */
export const APP_ROLES = ['Referral.Read', 'Referral.Submit'] as const
export type AppRole = (typeof APP_ROLES)[number]

/**
 * EHR systems' app registrations at the local provider (the client-credentials grant). In Entra,
 * the EHR's vendor registers its app and a tenant admin grants it app roles; here they are fixed.
 * Each secret is public, like the demo password: these are dev-only clients on loopback.
 */
export type DemoApp = { clientId: string; clientSecret: string; name: string; roles: AppRole[]; oid: string }

export const DEMO_APPS: DemoApp[] = [
  { clientId: 'northside-ehr', name: 'Northside EHR', roles: ['Referral.Read', 'Referral.Submit'], n: 901 },
  { clientId: 'lakeview-ehr', name: 'Lakeview EHR', roles: ['Referral.Read', 'Referral.Submit'], n: 902 },
].map(({ n, ...a }) => ({ ...a, roles: a.roles as AppRole[], clientSecret: `${a.clientId}-secret`, oid: oid(n) }))

export const findDemoApp = (clientId: string) => DEMO_APPS.find((a) => a.clientId === clientId)
