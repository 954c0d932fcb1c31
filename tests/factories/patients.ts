/** Realistic, entirely fictitious patients and referrals for the demo data and the tests. */
import type { FormValues } from '../../app/referrals/form-data.server'
import type { Random } from './random'

const FIRST = [
  'Olivia',
  'Liam',
  'Emma',
  'Noah',
  'Ava',
  'Ethan',
  'Sophia',
  'Lucas',
  'Mia',
  'Mateo',
  'Chloe',
  'Arjun',
  'Priya',
  'Wei',
  'Mei',
  'Kwame',
  'Fatima',
  'Omar',
  'Aiyana',
  'Jean-Luc',
  'Zoë',
  'Hiroshi',
  'Ngozi',
  'Santiago',
  'Ingrid',
  'Tomasz',
  'Leila',
  'Dmitri',
  'Aroha',
  'Siobhan',
]
const LAST = [
  'Tremblay',
  'Nguyen',
  'Singh',
  'Smith',
  'Côté',
  'MacDonald',
  'Patel',
  'Chen',
  'Okafor',
  'Gagnon',
  'Williams',
  'Kowalski',
  'Haddad',
  'Brown',
  "O'Neill",
  'Fernandes',
  'Roy',
  'Lee',
  'Martin',
  'Ahmed',
  'Bouchard',
  'Campbell',
  'Yamamoto',
  'Mensah',
  'Larsen',
  'Petrov',
  'García',
  'Wilson',
  'Morin',
  'Thompson',
]
const STREETS = ['Maple Ave', 'King St W', 'Lakeshore Blvd', 'Elm Dr', 'Queen St E', 'Birch Cres', 'Riverside Rd', 'Main St', 'Oak Park Way', 'Harbour Lane']
const CITIES = ['Toronto, ON', 'Mississauga, ON', 'Hamilton, ON', 'Oakville, ON', 'Burlington, ON', 'Guelph, ON']
const MEDS = [
  'None',
  'Metformin 500 mg BID',
  'Ramipril 5 mg daily',
  'Atorvastatin 20 mg daily',
  'Naproxen 250 mg PRN',
  'Levothyroxine 75 mcg daily',
  'Sertraline 50 mg daily',
  'Salbutamol inhaler PRN',
  'Acetaminophen 500 mg PRN',
]
const ALLERGIES = ['No known drug allergies', 'Penicillin (rash)', 'Sulfa drugs', 'Codeine (nausea)', 'Latex', 'Shellfish']
const HISTORY = [
  'Type 2 diabetes',
  'Hypertension',
  'Asthma',
  'Hypothyroidism',
  'Previous ACL repair (2019)',
  'Osteoarthritis both knees',
  'GERD',
  'Anxiety',
  'Obesity (BMI 34)',
  'No significant history',
]

export const REASONS: Record<string, string[]> = {
  northside: [
    'Persistent low back pain for 10 weeks after lifting at work; no red flags. Please assess and treat.',
    'Right rotator cuff tendinopathy, failed 6 weeks of home exercises.',
    'Post right total knee arthroplasty (6 weeks ago), needs structured rehabilitation.',
    'Recurrent positional vertigo, suspected BPPV. Dix-Hallpike positive on the right.',
    'Postpartum pelvic floor dysfunction with stress incontinence.',
    'Ankle sprain grade II, 3 weeks ago, ongoing instability.',
  ],
  lakeview: [
    'Left hip pain with groin radiation, X-ray shows moderate osteoarthritis. Consider replacement.',
    'Suspected medial meniscus tear after twisting injury, mechanical locking.',
    'Distal radius fracture treated in cast, please follow up for healing and alignment.',
    'Chronic lateral epicondylitis not responding to injection and bracing.',
    'Severe right knee osteoarthritis limiting walking to one block.',
    'Recurrent anterior shoulder dislocation in a 24-year-old athlete.',
  ],
  riverbend: [
    'Loud snoring, witnessed apneas and daytime sleepiness (Epworth 15). Please assess for OSA.',
    'Chronic insomnia for 2 years despite sleep hygiene; requesting CBT-I assessment.',
    'Known OSA, CPAP intolerance; request titration and mask fitting.',
    'Excessive daytime sleepiness with cataplexy-like episodes; query narcolepsy.',
    'Restless legs symptoms at night affecting sleep onset.',
    'Shift worker with severe sleep disruption and two near-miss driving incidents.',
  ],
}

export function fakePatient(random: Random) {
  const first = random.pick(FIRST)
  const last = random.pick(LAST)
  const year = random.int(1938, 2012)
  const month = String(random.int(1, 12)).padStart(2, '0')
  const day = String(random.int(1, 28)).padStart(2, '0')
  const digits = () => String(random.int(0, 9999)).padStart(4, '0')
  return {
    patient_first_name: first,
    patient_last_name: last,
    patient_dob: `${year}-${month}-${day}`,
    patient_sex: random.pick(['Female', 'Male', 'Female', 'Male', 'Prefer not to say']),
    health_card_number: `${random.int(1000, 9999)}-${random.int(100, 999)}-${random.int(100, 999)}-${random.pick(['AB', 'KT', 'MX', 'QZ'])}`,
    patient_phone: `(${random.pick(['416', '647', '905', '289'])}) 555-${digits()}`,
    patient_email: random.chance(0.6) ? `${first.toLowerCase().replace(/[^a-z]/g, '')}.${last.toLowerCase().replace(/[^a-z]/g, '')}@example.com` : '',
    patient_address: `${random.int(1, 999)} ${random.pick(STREETS)}, ${random.pick(CITIES)}`,
  }
}

export type FakePatient = ReturnType<typeof fakePatient>

export function fakeReferralValues(
  random: Random,
  options: { clinicSlug: string; services: string[]; clinician: { name: string; practice: string }; patient?: FakePatient },
): FormValues {
  const patient = options.patient ?? fakePatient(random)
  return {
    ...patient,
    clinician_name: options.clinician.name,
    clinician_practice: options.clinician.practice,
    clinician_phone: `(416) 555-${String(random.int(1000, 9999))}`,
    clinician_fax: `(416) 555-${String(random.int(1000, 9999))}`,
    clinician_billing_number: String(random.int(100000, 999999)),
    reason: random.pick(REASONS[options.clinicSlug] ?? REASONS.northside!),
    urgency: random.pick(['routine', 'routine', 'routine', 'urgent', 'urgent', 'emergent']),
    requested_service: random.pick(options.services),
    history: `${random.pick(HISTORY)}. ${random.pick(HISTORY)}.`,
    medications: random.pick(MEDS),
    allergies: random.pick(ALLERGIES),
    consent: true,
  }
}
