import type { IntakeFormDefinition } from '~/db/schema'

/** The referral form every new clinic starts with; admins edit it and publish new versions. */
export function defaultIntakeForm(requestedServices: string[]): IntakeFormDefinition {
  return {
    sections: [
      {
        title: 'Patient',
        fields: [
          { key: 'patient_first_name', label: 'First name', type: 'text', required: true, phi: true },
          { key: 'patient_last_name', label: 'Last name', type: 'text', required: true, phi: true },
          { key: 'patient_dob', label: 'Date of birth', type: 'date', required: true, phi: true },
          { key: 'patient_sex', label: 'Sex', type: 'select', required: false, phi: true, options: ['Female', 'Male', 'Intersex', 'Prefer not to say'] },
          {
            key: 'health_card_number',
            label: 'Health card / insurance number',
            type: 'text',
            required: true,
            phi: true,
            format: 'ontario-health-card',
            help: 'Ontario health card: 10 digits, then the version code if the card has one.',
          },
          { key: 'patient_phone', label: 'Phone', type: 'phone', required: true, phi: true },
          { key: 'patient_email', label: 'Email', type: 'email', required: false, phi: true },
          { key: 'patient_address', label: 'Address', type: 'textarea', required: false, phi: true },
        ],
      },
      {
        title: 'Referring clinician',
        fields: [
          { key: 'clinician_name', label: 'Clinician name', type: 'text', required: true, phi: false },
          { key: 'clinician_practice', label: 'Practice', type: 'text', required: true, phi: false },
          { key: 'clinician_phone', label: 'Phone', type: 'phone', required: true, phi: false },
          { key: 'clinician_fax', label: 'Fax', type: 'phone', required: false, phi: false },
          { key: 'clinician_billing_number', label: 'Billing number', type: 'text', required: true, phi: false },
        ],
      },
      {
        title: 'Referral',
        fields: [
          {
            key: 'reason',
            label: 'Reason for referral',
            type: 'textarea',
            required: true,
            phi: true,
            help: 'The question you want answered, and what has been tried.',
          },
          { key: 'urgency', label: 'Urgency', type: 'select', required: true, phi: false, options: ['routine', 'urgent', 'emergent'] },
          { key: 'requested_service', label: 'Requested service', type: 'select', required: true, phi: false, options: requestedServices },
          { key: 'history', label: 'Relevant history', type: 'textarea', required: false, phi: true },
          { key: 'medications', label: 'Current medications', type: 'textarea', required: false, phi: true },
          { key: 'allergies', label: 'Allergies', type: 'textarea', required: false, phi: true },
        ],
      },
      {
        title: 'Consent',
        fields: [
          {
            key: 'consent',
            label: 'The patient consents to this referral and to the sharing of this information with the clinic.',
            type: 'checkbox',
            required: true,
            phi: false,
          },
        ],
      },
    ],
  }
}

export const REQUESTED_SERVICES: Record<string, string[]> = {
  northside: ['Physiotherapy assessment', 'Post-operative rehabilitation', 'Vestibular rehabilitation', 'Pelvic health physiotherapy'],
  lakeview: ['Orthopaedic consultation', 'Joint replacement assessment', 'Sports injury clinic', 'Fracture clinic follow-up'],
  riverbend: ['Sleep study (polysomnography)', 'CPAP titration', 'Insomnia consultation', 'Narcolepsy assessment'],
}
