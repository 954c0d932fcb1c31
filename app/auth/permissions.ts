/**
 * Who may do what: one table, permission strings `action:entity:access`.
 * Browser-safe (the header uses it to decide what to show); enforcement is on the server,
 * and row-level security is the second wall behind it.
 */
import type { ActorRole, IntegrationRole, UserRole } from '~/db/enums'

const referrer = [
  'create:referral:own',
  'read:referral:own',
  'reply:referral:own',
  // The sender cancels their own referral, as the Ontario eReferral rules say (docs/decisions/060-sender-cancels.md).
  'cancel:referral:own',
  'read:intake-form:any',
] as const

const staff = [
  // Entering a referral that came by fax, phone, email or in person, on the referrer's behalf.
  'create:referral:any',
  'read:referral:any',
  'update:referral:any',
  'note:referral:any',
  'assign:referral:any',
  // Handing a referral to another clinic that accepts forwards (docs/decisions/032-forwarding-between-clinics.md).
  'forward:referral:any',
  'generate:summary:any',
  'read:referral-access:any',
  'read:intake-form:any',
  // The turnaround dashboard: counts and durations, no patient information.
  'read:turnaround:any',
] as const

const admin = [
  ...staff,
  'manage:user:any',
  'update:clinic-settings:own',
  'update:intake-form:any',
  'read:audit-log:any',
  'export:audit-log:any',
  'verify:audit-log:any',
  // Webhook endpoints and other systems' access (/admin/integrations; docs/decisions/043-signed-webhooks.md).
  'manage:integration:any',
  // A patient's accounting of disclosures across their referrals (app/privacy/disclosures.server.ts).
  'read:disclosures:any',
] as const

const superadmin = [...admin, 'switch:clinic:any', 'manage:clinic:any'] as const

/**
 * What an EHR integration's app roles allow (docs/decisions/058-ehr-integrations-app-only-tokens.md).
 * Referral.Read reads the clinic's referrals as staff read them (no work on them). Referral.Submit
 * grants `create:referral:app`, which no person has: a referral from a system names no user who
 * sent it, so only a route written for that (the FHIR transaction) takes one; the person's routes
 * refuse it with a recorded 403.
 */
export const APP_ROLE_PERMISSIONS = {
  'Referral.Read': ['read:referral:any', 'read:intake-form:any'],
  // The sender cancels what it sent, an EHR system as a referrer (docs/decisions/060-sender-cancels.md).
  'Referral.Submit': ['create:referral:app', 'read:intake-form:any', 'cancel:referral:own'],
} as const satisfies Record<IntegrationRole, readonly string[]>

export type Permission =
  | (typeof referrer)[number]
  | (typeof staff)[number]
  | (typeof admin)[number]
  | (typeof superadmin)[number]
  | (typeof APP_ROLE_PERMISSIONS)[IntegrationRole][number]

export const PERMISSIONS: Record<UserRole, readonly Permission[]> = { referrer, staff, admin, superadmin }

/** The caller's permissions: a person's come from their role, an integration's from its app roles. */
export function permissionsOf(user: { role: ActorRole; appRoles?: readonly IntegrationRole[] }): readonly Permission[] {
  if (user.role !== 'integration') return PERMISSIONS[user.role]
  return (user.appRoles ?? []).flatMap((r) => APP_ROLE_PERMISSIONS[r])
}

export function hasPermission(user: { role: ActorRole; appRoles?: readonly IntegrationRole[] } | null | undefined, permission: Permission) {
  return !!user && permissionsOf(user).includes(permission)
}

/** Where each role starts after signing in. */
export function homeFor(role: UserRole) {
  return role === 'referrer' ? '/my-referrals' : '/queue'
}
