/**
 * Any /api address with nothing behind it: a 404 in the API's error shape. Without this route the
 * app shell's catch-all (_app.$.tsx) would take it, and an API client would meet the shell's sign-in.
 */
import { apiError } from '~/api/errors.server'

export const loader = () => apiError(404)
export const action = () => apiError(404)
