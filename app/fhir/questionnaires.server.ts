/**
 * The clinic's published intake form versions as Questionnaires: no PHI, readable by anyone of
 * the clinic who may read the form (as GET /api/v1/intake-form). A draft is not published, so it
 * is not there (404), whatever its number.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { and, desc, eq, isNotNull } from 'drizzle-orm'
import { requireApiPermission } from '~/api/handler.server'
import type { SessionUser } from '~/auth/identity.server'
import { intakeForms } from '~/db/schema'
import { fhirError } from './outcome.server'
import { questionnaire, versionOfQuestionnaireId, type FhirServer } from './resources'

export async function readQuestionnaire(context: AppLoadContext, user: SessionUser, server: FhirServer, id: string | undefined) {
  requireApiPermission(user, 'read:intake-form:any')
  const version = versionOfQuestionnaireId(id)
  if (version === null) throw fhirError(404)
  const found = await context.db.tenant(async (tx) => {
    const published = and(eq(intakeForms.clinicId, server.clinic.id), isNotNull(intakeForms.publishedAt))
    const [form] = await tx
      .select({ version: intakeForms.version, definition: intakeForms.definition, publishedAt: intakeForms.publishedAt })
      .from(intakeForms)
      .where(and(published, eq(intakeForms.version, version)))
      .limit(1)
    if (!form) return null
    const [latest] = await tx.select({ version: intakeForms.version }).from(intakeForms).where(published).orderBy(desc(intakeForms.version)).limit(1)
    return { ...form, publishedAt: form.publishedAt!, current: latest?.version === form.version }
  })
  if (!found) throw fhirError(404)
  return questionnaire(server, found)
}
