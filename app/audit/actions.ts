/**
 * What each audit action is, in one table: how people read it, and how it maps to a FHIR R4
 * AuditEvent (DICOM event type, CRUDE action). Browser-safe: the viewer's filter uses it.
 * A Record over AuditAction, so a new action does not compile until it is described here.
 */
import type { AuditAction } from './audit.server'

/** DICOM audit event types (http://dicom.nema.org/resources/ontology/DCM). */
const DCM_TYPES = {
  applicationActivity: ['110100', 'Application Activity'],
  auditLogUsed: ['110101', 'Audit Log Used'],
  patientRecord: ['110110', 'Patient Record'],
  userAuthentication: ['110114', 'User Authentication'],
  securityRolesChanged: ['110136', 'Security Roles Changed'],
  userSecurityAttributesChanged: ['110137', 'User Security Attributes Changed'],
} as const

type ActionInfo = {
  label: string
  type: keyof typeof DCM_TYPES
  /** FHIR audit-event-action: Create, Read (view, print), Update, Delete, Execute. */
  crude: 'C' | 'R' | 'U' | 'D' | 'E'
}

export const AUDIT_ACTIONS: Record<AuditAction, ActionInfo> = {
  login: { label: 'Signed in', type: 'userAuthentication', crude: 'E' },
  'login.denied': { label: 'Sign-in refused', type: 'userAuthentication', crude: 'E' },
  logout: { label: 'Signed out', type: 'userAuthentication', crude: 'E' },
  'clinic.switch': { label: 'Switched clinic', type: 'applicationActivity', crude: 'E' },
  'clinic.settings': { label: 'Changed a clinic setting', type: 'applicationActivity', crude: 'U' },
  'referral.read': { label: 'Opened a referral', type: 'patientRecord', crude: 'R' },
  'referral.list': { label: 'Listed referrals', type: 'patientRecord', crude: 'R' },
  'referral.create': { label: 'Created a referral', type: 'patientRecord', crude: 'C' },
  'referral.update': { label: 'Updated a referral', type: 'patientRecord', crude: 'U' },
  'referral.status': { label: 'Changed a status', type: 'patientRecord', crude: 'U' },
  'referral.note': { label: 'Added a note', type: 'patientRecord', crude: 'U' },
  'referral.assign': { label: 'Assigned a referral', type: 'patientRecord', crude: 'U' },
  'referral.print': { label: 'Printed a referral', type: 'patientRecord', crude: 'R' },
  'phi.rotate': { label: 'Re-sealed PHI under the current key', type: 'applicationActivity', crude: 'U' },
  'phi.rotate_blind_index': { label: 'Recomputed blind indexes under a new key', type: 'applicationActivity', crude: 'U' },
  'phi.purge': { label: 'Purged PHI past the retention period', type: 'applicationActivity', crude: 'D' },
  'referral.purge': { label: "Purged a referral's patient information", type: 'patientRecord', crude: 'D' },
  'disclosures.read': { label: 'Viewed a patient’s accounting of disclosures', type: 'auditLogUsed', crude: 'R' },
  'disclosures.export': { label: 'Exported a patient’s accounting of disclosures', type: 'auditLogUsed', crude: 'R' },
  'referral.forward': { label: 'Forwarded a referral to another clinic', type: 'patientRecord', crude: 'E' },
  'referral.receive': { label: 'Received a referral from another clinic', type: 'patientRecord', crude: 'C' },
  'document.attach': { label: 'Attached a document', type: 'patientRecord', crude: 'C' },
  'document.list': { label: 'Listed documents', type: 'patientRecord', crude: 'R' },
  'document.read': { label: 'Opened a document', type: 'patientRecord', crude: 'R' },
  'document.remove': { label: 'Removed a document', type: 'patientRecord', crude: 'D' },
  'ai.generate': { label: 'Generated a summary', type: 'patientRecord', crude: 'E' },
  'ai.accept': { label: 'Accepted a summary', type: 'patientRecord', crude: 'U' },
  'user.invite': { label: 'Invited a user', type: 'userSecurityAttributesChanged', crude: 'C' },
  'user.role': { label: 'Changed a role', type: 'securityRolesChanged', crude: 'U' },
  'user.disable': { label: 'Disabled a user', type: 'userSecurityAttributesChanged', crude: 'U' },
  'user.enable': { label: 'Enabled a user', type: 'userSecurityAttributesChanged', crude: 'U' },
  'form.publish': { label: 'Published the intake form', type: 'applicationActivity', crude: 'C' },
  // A referrer's own drafts (their patient's name in the list, the values when opened).
  'draft.list': { label: 'Listed referral drafts', type: 'patientRecord', crude: 'R' },
  'draft.read': { label: 'Opened a referral draft', type: 'patientRecord', crude: 'R' },
  'audit.export': { label: 'Exported the audit trail', type: 'auditLogUsed', crude: 'R' },
  'audit.verify': { label: 'Verified the audit trail', type: 'auditLogUsed', crude: 'E' },
  'webhook.create': { label: 'Registered a webhook endpoint', type: 'applicationActivity', crude: 'C' },
  'webhook.change': { label: 'Changed a webhook endpoint', type: 'applicationActivity', crude: 'U' },
  'webhook.send': { label: 'Sent a webhook by hand', type: 'applicationActivity', crude: 'E' },
  'integration.create': { label: 'Registered an EHR integration', type: 'securityRolesChanged', crude: 'C' },
  'integration.revoke': { label: 'Revoked an EHR integration', type: 'securityRolesChanged', crude: 'D' },
  'notifications.settings': { label: 'Changed their email notifications', type: 'applicationActivity', crude: 'U' },
  // Written by the database's own triggers on PHI tables (drizzle/0010), whoever wrote.
  'record.write': { label: 'Wrote patient data (database)', type: 'patientRecord', crude: 'U' },
}

export const AUDIT_ACTION_CODES = Object.keys(AUDIT_ACTIONS) as [AuditAction, ...AuditAction[]]

export const isAuditAction = (value: string): value is AuditAction => Object.hasOwn(AUDIT_ACTIONS, value)

export const actionLabel = (action: string) => (isAuditAction(action) ? AUDIT_ACTIONS[action].label : action)

export function dicomType(action: string) {
  const [code, display] = DCM_TYPES[isAuditAction(action) ? AUDIT_ACTIONS[action].type : 'applicationActivity']
  return { code, display }
}

export const crudeAction = (action: string) => (isAuditAction(action) ? AUDIT_ACTIONS[action].crude : 'E')
