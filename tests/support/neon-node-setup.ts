// Node 20 has no global WebSocket: give the Neon driver `ws` (workerd has its own).
import { neonConfig } from '@neondatabase/serverless'
import ws from 'ws'

neonConfig.webSocketConstructor = ws
