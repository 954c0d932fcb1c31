/**
 * EHR integrations (drizzle/0034_ehr_integrations.sql; docs/decisions/058-ehr-integrations-app-only-tokens.md):
 * an EHR system's app registration bound to one clinic, with the app roles it may use there.
 * Only the clinic's admins see the rows; a token finds its integration through integration_start.
 */
import { sql } from 'drizzle-orm'
import { index, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core'
import { integrationRoles } from './enums'

export const ehrIntegrationStatuses = ['active', 'revoked'] as const

export const ehrIntegrations = pgTable(
  'ehr_integrations',
  {
    id: uuid('id')
      .primaryKey()
      .default(sql`gen_random_uuid()`),
    /** References clinics(id) and users (clinic_id, id) in the migration. */
    clinicId: uuid('clinic_id').notNull(),
    name: text('name').notNull(),
    /** The Entra tenant (`tid`) the app's tokens come from. */
    idpTenantId: text('idp_tenant_id').notNull(),
    /** The app's application (client) id: `azp` in its tokens. */
    clientId: text('client_id').notNull(),
    roles: text('roles', { enum: integrationRoles }).array().notNull(),
    status: text('status', { enum: ehrIntegrationStatuses }).notNull().default('active'),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revokedBy: uuid('revoked_by'),
    createdBy: uuid('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('ehr_integrations_clinic_idx').on(t.clinicId, t.createdAt), unique('ehr_integrations_clinic_id_key').on(t.clinicId, t.id)],
)
