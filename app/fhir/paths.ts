/** Where the FHIR R4 interface lives: under the API's rules (bearer tokens, CORS, no-store), in FHIR's shapes. */
export const FHIR_BASE = '/fhir/R4'
export const isFhirPath = (pathname: string) => pathname === FHIR_BASE || pathname.startsWith(`${FHIR_BASE}/`)
