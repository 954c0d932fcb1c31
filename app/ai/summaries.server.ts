/**
 * AI summaries with provenance (processing_results.summaries): every generation is kept,
 * each entry with its text encrypted (it is PHI), the model, the prompt version, a hash of
 * the input, who generated it and when. Staff accept or reject each; only the latest
 * accepted one of a kind is the referral's summary.
 */
import { and, eq } from 'drizzle-orm'
import { deniedEvent, type AuditEvent } from '~/audit/audit.server'
import type { PhiCipher } from '~/crypto/phi.server'
import { sha256Hex } from '~/crypto/hash'
import { processingResults, referrals, type EncryptedValue } from '~/db/schema'
import { intakeFormVersion } from '~/intake/intake-forms.server'
import { openFormData } from '~/referrals/form-data.server'
import type { TenantDatabase, TenantTx } from '~/tenancy/tenant.server'
import { PROMPT_VERSION, referralAsText, type SummaryKind } from './prompts'

export type SummaryEntry = {
  id: string
  kind: SummaryKind
  text: EncryptedValue
  model: string
  promptVersion: string
  inputHash: string
  generatedBy: string
  generatedAt: string
  decision: 'pending' | 'accepted' | 'rejected'
  decidedBy?: string
  decidedAt?: string
}
type Stored = { entries?: SummaryEntry[] }

/** The request's database, audit trail and PHI cipher. */
export type SummaryDesk = {
  db: TenantDatabase
  audit: (tx: TenantTx, event: AuditEvent) => Promise<void>
  phi: PhiCipher
}
/** The staff member at work, in their clinic. */
type Staff = { clinicId: string; userId: string }

export type Generation = { model: string; promptVersion: typeof PROMPT_VERSION; texts: Record<SummaryKind, string> }

/**
 * A staff member's browser generated summaries of a referral with their local model: they are
 * kept, encrypted, as pending entries with their provenance, and the generation is recorded.
 * The input hash is the server's own, over the referral as it is now (what was sent). False
 * when the referral is not there, or is another clinic's: recorded like every refused attempt
 * on PHI.
 */
export function saveGeneratedSummaries(desk: SummaryDesk, staff: Staff, referralId: string, generation: Generation): Promise<boolean> {
  return desk.db.tenant(async (tx) => {
    const [row] = await tx.select().from(referrals).where(eq(referrals.id, referralId)).limit(1)
    if (!row) {
      await desk.audit(tx, deniedEvent({ action: 'ai.generate', entityId: referralId }, 404))
      return false
    }
    const form = await intakeFormVersion(tx, staff.clinicId, row.formVersion)
    const values = await openFormData(desk.phi, form!.definition, { clinicId: staff.clinicId, referralId }, row.formData)
    const inputHash = await sha256Hex(`${PROMPT_VERSION}\n${referralAsText(form!.definition, values)}`)
    const ids = await saveSummaries(tx, desk.phi, {
      ...staff,
      referralId,
      model: generation.model,
      promptVersion: generation.promptVersion,
      inputHash,
      texts: generation.texts,
    })
    await desk.audit(tx, {
      action: 'ai.generate',
      entityType: 'referral',
      entityId: referralId,
      details: { entries: ids, model: generation.model, promptVersion: generation.promptVersion },
    })
    return true
  })
}

/**
 * A staff member accepts or rejects one generated summary, recorded. False when the referral
 * is not there (recorded as refused) or has no such entry.
 */
export function decideOnSummary(
  desk: Omit<SummaryDesk, 'phi'>,
  staff: Staff,
  referralId: string,
  choice: { entryId: string; decision: 'accepted' | 'rejected' },
): Promise<boolean> {
  return desk.db.tenant(async (tx) => {
    const [row] = await tx.select({ id: referrals.id }).from(referrals).where(eq(referrals.id, referralId)).limit(1)
    if (!row) {
      await desk.audit(tx, deniedEvent({ action: 'ai.accept', entityId: referralId }, 404))
      return false
    }
    const done = await decideSummary(tx, { ...staff, referralId, ...choice })
    if (!done) return false
    await desk.audit(tx, { action: 'ai.accept', entityType: 'referral', entityId: referralId, details: { entry: choice.entryId, decision: choice.decision } })
    return true
  })
}

async function load(tx: TenantTx, clinicId: string, referralId: string) {
  const [row] = await tx
    .select()
    .from(processingResults)
    .where(and(eq(processingResults.clinicId, clinicId), eq(processingResults.referralId, referralId)))
    .for('update')
  return row ?? null
}

async function store(tx: TenantTx, clinicId: string, referralId: string, existing: { id: string } | null, entries: SummaryEntry[]) {
  if (existing) {
    await tx.update(processingResults).set({ summaries: { entries }, updatedAt: new Date() }).where(eq(processingResults.id, existing.id))
  } else {
    await tx.insert(processingResults).values({ clinicId, referralId, summaries: { entries } })
  }
}

async function saveSummaries(
  tx: TenantTx,
  cipher: PhiCipher,
  input: { clinicId: string; referralId: string; userId: string; model: string; promptVersion: string; inputHash: string; texts: Record<SummaryKind, string> },
) {
  const row = await load(tx, input.clinicId, input.referralId)
  const entries = [...(((row?.summaries ?? {}) as Stored).entries ?? [])]
  const now = new Date().toISOString()
  const added: string[] = []
  for (const [kind, text] of Object.entries(input.texts) as [SummaryKind, string][]) {
    const id = crypto.randomUUID()
    entries.push({
      id,
      kind,
      text: await cipher.encrypt(text, { clinicId: input.clinicId, recordId: id, field: `summary:${kind}` }),
      model: input.model,
      promptVersion: input.promptVersion,
      inputHash: input.inputHash,
      generatedBy: input.userId,
      generatedAt: now,
      decision: 'pending',
    })
    added.push(id)
  }
  await store(tx, input.clinicId, input.referralId, row, entries)
  return added
}

async function decideSummary(
  tx: TenantTx,
  input: { clinicId: string; referralId: string; entryId: string; decision: 'accepted' | 'rejected'; userId: string },
) {
  const row = await load(tx, input.clinicId, input.referralId)
  const entries = (((row?.summaries ?? {}) as Stored).entries ?? []).map((e) =>
    e.id === input.entryId ? { ...e, decision: input.decision, decidedBy: input.userId, decidedAt: new Date().toISOString() } : e,
  )
  if (!row || !entries.some((e) => e.id === input.entryId)) return false
  await store(tx, input.clinicId, input.referralId, row, entries)
  return true
}

/** The entries, decrypted, newest first; and the accepted summary of each kind. */
export async function readSummaries(tx: TenantTx, cipher: PhiCipher, clinicId: string, referralId: string) {
  const [row] = await tx
    .select({ summaries: processingResults.summaries })
    .from(processingResults)
    .where(and(eq(processingResults.clinicId, clinicId), eq(processingResults.referralId, referralId)))
  return openSummaries(cipher, clinicId, row?.summaries ?? null)
}

/** Saved summaries as read with the referral (openReferral's `summaries`), decrypted, newest first. */
export async function openSummaries(cipher: PhiCipher, clinicId: string, stored: Record<string, unknown> | null) {
  const entries = ((stored ?? {}) as Stored).entries ?? []
  const open = await Promise.all(
    entries.map(async (e) => ({
      ...e,
      text: await cipher.decrypt(e.text, { clinicId, recordId: e.id, field: `summary:${e.kind}` }),
    })),
  )
  open.sort((a, b) => b.generatedAt.localeCompare(a.generatedAt))
  return open
}
