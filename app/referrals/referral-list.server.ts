/**
 * Every list that shows patients (the queue and its patient search, a referrer's referrals, the
 * API's list) shows them through showReferralList: it decrypts what a list shows of each
 * patient and, in the same transaction, writes the one referral.list audit row that names every
 * referral shown. The names cannot be had without the row, nor the row without the names.
 */
import type { AppLoadContext } from '@remix-run/cloudflare'
import type { TenantTx } from '~/tenancy/tenant.server'

/** What a list shows of a patient: the name (and the date of birth, for staff), nothing else of the referral. */
export type ListedPatient = { firstName: string | null; lastName: string | null; dob: string | null }

type ListedRow = { id: string; clinicId: string; formData: Record<string, unknown> }

/** How the audit row tells the lists apart (the access history shows which kind of list it was). */
type ListKind = { search: boolean } | { api: true } | Record<string, never>

const NAME = ['patient_first_name', 'patient_last_name'] as const
const NAME_AND_DOB = [...NAME, 'patient_dob'] as const

export async function showReferralList<Row extends ListedRow, Item>(
  tx: TenantTx,
  context: Pick<AppLoadContext, 'phi' | 'audit'>,
  list: { rows: Row[]; shows: 'name' | 'name-and-dob'; kind?: ListKind },
  item: (row: Row, patient: ListedPatient) => Item,
): Promise<Item[]> {
  const fields = list.shows === 'name' ? NAME : NAME_AND_DOB
  const items = await Promise.all(
    list.rows.map(async (row) => {
      const open: Record<string, string> = {}
      for (const field of fields) {
        const value = row.formData[field]
        if (value === undefined || value === null) continue
        open[field] = await context.phi.decrypt(value, { clinicId: row.clinicId, recordId: row.id, field })
      }
      return item(row, { firstName: open.patient_first_name ?? null, lastName: open.patient_last_name ?? null, dob: open.patient_dob ?? null })
    }),
  )
  await context.audit(tx, { action: 'referral.list', entityType: 'referral', details: { ids: list.rows.map((r) => r.id), ...list.kind } })
  return items
}
