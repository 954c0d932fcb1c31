/** Roles a clinic admin can give; superadmins are made outside any clinic. Browser-safe: the users page lists them. */
export const CLINIC_ROLES = ['admin', 'staff', 'referrer'] as const
export type ClinicRole = (typeof CLINIC_ROLES)[number]
export const ROLE_LABELS: Record<ClinicRole, string> = { admin: 'Admin', staff: 'Staff', referrer: 'Referrer' }
