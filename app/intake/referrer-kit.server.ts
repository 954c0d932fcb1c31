/**
 * What the new-referral page brings besides the form (docs/decisions/031-referrer-profile-drafts-and-templates.md):
 * the referrer's profile, drafts and templates to start from, and the page's intents to save a
 * draft or a template, discard one or remove one. The intents come in the URL (`?intent=`), so
 * the form's own body (with its attachments, which a draft does not keep) is read as fields only.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import { z } from 'zod'
import type { SessionUser } from '~/auth/identity.server'
import { receiveFieldsOnly } from '~/documents/upload.server'
import type { IntakeFormDefinition } from '~/db/schema'
import type { TenantTx } from '~/tenancy/tenant.server'
import { formInteger } from '~/utils/form-values'
import { isUuid } from '~/utils/keyset'
import { currentIntakeForm, intakeFormVersion } from './intake-forms.server'
import { DRAFT_ID_FIELD, TEMPLATE_NAME_FIELD } from './referrer-kit'
import { deleteDraft, draftValues, listDrafts, openDraft, saveDraft } from './referral-drafts.server'
import { deleteTemplate, listTemplates, saveTemplate, templateValues } from './referral-templates.server'
import { profileValues } from './referrer-profile'
import { readReferrerProfile } from './referrer-profile.server'

export const KIT_INTENTS = ['save-draft', 'save-template', 'discard-draft', 'remove-template'] as const
export type KitIntent = (typeof KIT_INTENTS)[number]

/** The page's intent from its URL; null for the form's own submit. An unknown one is refused. */
export function kitIntent(request: Request): KitIntent | null {
  const intent = new URL(request.url).searchParams.get('intent')
  if (intent === null) return null
  if (!(KIT_INTENTS as readonly string[]).includes(intent))
    throw new Response('This form was sent with a button it does not have. Reload the page and try again.', { status: 400 })
  return intent as KitIntent
}

type Owner = { clinicId: string; userId: string }

/** The page's starting point: its form, filled from the draft asked for, else from the template and the profile. */
export async function newReferralStart(context: AppLoadContext, tx: TenantTx, owner: Owner, ask: { draftId: string | null; templateId: string | null }) {
  const form = await currentIntakeForm(tx, owner.clinicId)
  if (!form) return null
  const profile = await readReferrerProfile(tx, owner.userId)
  const drafts = await listDrafts(tx, context.phi, owner)
  const templates = await listTemplates(tx, owner)
  // The list names each draft's patient: a read of PHI, recorded like a list of referrals.
  if (drafts.length) await context.audit(tx, { action: 'draft.list', entityType: 'referral_draft', details: { ids: drafts.map((d) => d.id) } })
  let draft = null
  if (ask.draftId) {
    draft = await openDraft(tx, context.phi, owner, ask.draftId)
    if (!draft) throw new Response('This draft is not there any more: it was sent or discarded.', { status: 404 })
    await context.audit(tx, { action: 'draft.read', entityType: 'referral_draft', entityId: draft.id })
  }
  const template = ask.templateId ? templates.find((t) => t.id === ask.templateId) : undefined
  if (ask.templateId && !template) throw new Response('This template is not there any more.', { status: 404 })
  const values = draft ? draft.values : { ...profileValues(profile, form.definition), ...(template ? templateValues(template.values, form.definition) : {}) }
  return {
    form,
    values,
    savedDraft: draft ? { id: draft.id, formVersion: draft.formVersion } : null,
    template: template ? { id: template.id, name: template.name } : null,
    hasProfile: !!profile,
    drafts: drafts.map((d) => ({ ...d, updatedAt: d.updatedAt.toISOString() })),
    templates: templates.map((t) => ({ id: t.id, name: t.name })),
  }
}

/** A uuid from the URL, or null; anything else is a bad link (400), never a query. */
export function idParam(url: URL, name: string) {
  const value = url.searchParams.get(name)
  if (value === null || value === '') return null
  if (!isUuid(value)) throw new Response('This link is not valid: open the draft or template from the list.', { status: 400 })
  return value
}

export type KitOutcome =
  | { kind: 'redirect'; to: string }
  /** The page again, with what was typed (no redirect: the patient's fields are not kept in a template). */
  | { kind: 'page'; values: Record<string, string>; draftId: string | null; notice?: string; problem?: string; status: 200 | 400 }

const Envelope = z.object({ formVersion: formInteger(1) })
const TemplateName = z.string().trim().min(1, 'Name the template, e.g. “Knee, routine”').max(80, 'A template name is at most 80 characters')

export async function handleKitIntent(context: AppLoadContext, request: Request, user: SessionUser, clinicId: string, intent: KitIntent): Promise<KitOutcome> {
  const owner = { clinicId, userId: user.id }
  const fields = await receiveFieldsOnly(request)
  const idOf = (name: string) => {
    const value = fields.get(name)
    return typeof value === 'string' && isUuid(value) ? value : null
  }
  if (intent === 'discard-draft' || intent === 'remove-template') {
    const id = idOf('id')
    if (!id) throw new Response('This form is out of date: reload the page', { status: 400 })
    const done = await context.db.tenant((tx) => (intent === 'discard-draft' ? deleteDraft(tx, owner, id) : deleteTemplate(tx, owner, id)))
    if (!done) throw new Response(intent === 'discard-draft' ? 'This draft is not there any more.' : 'This template is not there any more.', { status: 404 })
    return { kind: 'redirect', to: `/referrals/new?done=${intent === 'discard-draft' ? 'draft-discarded' : 'template-removed'}` }
  }
  const envelope = Envelope.safeParse({ formVersion: fields.get('formVersion') })
  if (!envelope.success) throw new Response('The form is out of date: reload the page', { status: 400 })
  const draftId = idOf(DRAFT_ID_FIELD)
  return context.db.tenant(async (tx): Promise<KitOutcome> => {
    const form = await intakeFormVersion(tx, clinicId, envelope.data.formVersion)
    if (!form) throw new Response('The form is out of date: reload the page', { status: 409 })
    const values = draftValues(fields, form.definition)
    if (intent === 'save-draft') {
      const saved = await saveDraft(tx, context.phi, owner, { id: draftId, formVersion: form.version, values })
      if (saved.kind === 'saved') return { kind: 'redirect', to: `/referrals/new?${new URLSearchParams({ draft: saved.id, done: 'draft-saved' })}` }
      const notice = saved.kind === 'full' ? 'You have 20 drafts already: send or discard one to save another.' : 'This draft was sent or discarded meanwhile.'
      return { kind: 'page', values, draftId: null, problem: notice, status: 400 }
    }
    return saveAsTemplate(tx, owner, form, fields, values, draftId)
  })
}

async function saveAsTemplate(
  tx: TenantTx,
  owner: Owner,
  form: { version: number; definition: IntakeFormDefinition },
  fields: FormData,
  values: Record<string, string>,
  draftId: string | null,
): Promise<KitOutcome> {
  const name = TemplateName.safeParse(fields.get(TEMPLATE_NAME_FIELD) ?? '')
  if (!name.success) return { kind: 'page', values, draftId, problem: name.error.issues[0]!.message, status: 400 }
  const saved = await saveTemplate(tx, owner, { name: name.data, formVersion: form.version, values: templateValues(fields, form.definition) })
  if (saved.kind === 'empty')
    return { kind: 'page', values, draftId, problem: 'Fill in a service, the urgency or your details first: a template keeps those.', status: 400 }
  if (saved.kind === 'full') return { kind: 'page', values, draftId, problem: 'You have 20 templates already: remove one to save another.', status: 400 }
  return {
    kind: 'page',
    values,
    draftId,
    notice: `Template “${name.data}” saved. It keeps this form’s service, urgency and your details, never the patient’s.`,
    status: 200,
  }
}
