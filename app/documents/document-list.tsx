/** A referral's documents as the referral page, its documents tab and the print view list them. */
import { Link } from '@remix-run/react'
import { DOCUMENT_TYPES, formatBytes } from './limits'
import { ClinicDate } from '~/utils/use-clinic-time'

export type DocumentListItem = {
  id: string
  name: string
  contentType: keyof typeof DOCUMENT_TYPES
  sizeBytes: number
  createdAt: string
  attachedWith: 'referral' | 'reply' | 'staff' | 'forward'
  uploadedBy: { displayName: string } | null
}

const WITH = { referral: 'with the referral', reply: 'with a reply', staff: 'by the clinic', forward: 'by the clinic that forwarded it' } as const

export function DocumentList({ referralId, documents, links = true }: { referralId: string; documents: DocumentListItem[]; links?: boolean }) {
  if (!documents.length) return <p className="text-sm text-slate-500">No documents attached.</p>
  return (
    <ul className="divide-y divide-slate-200 text-sm" data-testid="document-list">
      {documents.map((d) => (
        <li key={d.id} className="py-2" data-testid="document">
          {links ? (
            <Link to={`/referrals/${referralId}/documents/${d.id}`} className="break-all font-medium text-brand-700 underline">
              {d.name}
            </Link>
          ) : (
            <span className="break-all font-medium">{d.name}</span>
          )}
          <span className="block text-xs text-slate-600">
            {DOCUMENT_TYPES[d.contentType]} · {formatBytes(d.sizeBytes)} · <ClinicDate iso={d.createdAt} /> {WITH[d.attachedWith]}
            {d.uploadedBy ? ` (${d.uploadedBy.displayName})` : ''}
          </span>
        </li>
      ))}
    </ul>
  )
}
