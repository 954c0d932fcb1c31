import { createContext, useContext } from 'react'

/** The CSP nonce: set on the server render; the browser hides it, so the client sees ''. */
const NonceContext = createContext<string>('')
export const NonceProvider = NonceContext.Provider
export const useNonce = () => useContext(NonceContext)
