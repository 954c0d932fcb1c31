/** Browser-safe: the referral form's hidden field that carries its draft owner token (draft.server.ts). */
export const DRAFT_OWNER_FIELD = 'draftOwner'
