import type { TenantScope } from '~/tenancy/tenant.server'

/**
 * The courier's scope in a clinic: staff, with no user. No request has that scope (every signed-in
 * one names its user), and the deliveries' write policy asks for it (drizzle/0026).
 */
export const courierScope = (clinicId: string): TenantScope => ({ clinicId, userId: null, role: 'staff' })
