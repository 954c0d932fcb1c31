/**
 * Any /fhir/R4 address with nothing behind it (a resource type this server does not have, an
 * interaction it does not do): 404 as an OperationOutcome, rather than the app shell's page.
 */
import { fhirError } from '~/fhir/outcome.server'

export const loader = () => fhirError(404, 'This server has no such resource or interaction: GET /fhir/R4/metadata lists what it has')
export const action = () => fhirError(404, 'This server has no such resource or interaction: GET /fhir/R4/metadata lists what it has')
