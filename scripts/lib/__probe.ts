import Provider from 'oidc-provider'
export const x = Provider
