/**
 * The schema's closed lists, browser-safe: pages and forms import these without pulling
 * drizzle into the client bundle. app/db/schema.ts re-exports them.
 */
export const userRoles = ['admin', 'staff', 'referrer', 'superadmin'] as const
export type UserRole = (typeof userRoles)[number]

export const userStatuses = ['invited', 'active', 'disabled'] as const
export type UserStatus = (typeof userStatuses)[number]

export const referralStatuses = ['received', 'in_review', 'info_requested', 'accepted', 'scheduled', 'declined', 'closed', 'cancelled', 'forwarded'] as const
export type ReferralStatus = (typeof referralStatuses)[number]

export const referralPriorities = ['routine', 'urgent', 'emergent'] as const
export type ReferralPriority = (typeof referralPriorities)[number]

/** How a referral that staff entered on the referrer's behalf reached the clinic (docs/decisions/028-referrals-entered-by-staff.md). */
export const intakeChannels = ['fax', 'phone', 'email', 'walk_in'] as const
export type IntakeChannel = (typeof intakeChannels)[number]

export const referralEventTypes = ['status', 'note', 'assignment', 'message', 'reply', 'created'] as const
export type ReferralEventType = (typeof referralEventTypes)[number]

export const auditOutcomes = ['success', 'denied', 'error'] as const
export type AuditOutcome = (typeof auditOutcomes)[number]

/**
 * The app roles an EHR system's app-only token carries in `roles` (Entra app roles exposed by
 * IntakePilot's API registration; docs/decisions/058-ehr-integrations-app-only-tokens.md).
 */
export const integrationRoles = ['Referral.Read', 'Referral.Submit'] as const
export type IntegrationRole = (typeof integrationRoles)[number]

/** Who a transaction acts as for row-level security: a person's role, or an EHR integration. */
export const actorRoles = [...userRoles, 'integration'] as const
export type ActorRole = (typeof actorRoles)[number]
