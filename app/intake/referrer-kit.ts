/** Browser-safe names of the new-referral page's extra fields (referrer-kit.server.ts). */
export const DRAFT_ID_FIELD = 'draftId'
export const TEMPLATE_NAME_FIELD = 'templateName'
/** Fields the referral form posts that are not the clinic's form fields. */
export const KIT_FIELDS = [DRAFT_ID_FIELD, TEMPLATE_NAME_FIELD] as const
