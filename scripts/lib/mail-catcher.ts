/**
 * The local mail catcher (`npm start`, and the tests): a real SMTP server (smtp-server) that keeps
 * what it receives in memory, parsed by mailparser, and a web page that lists it. Loopback only,
 * no TLS, no authentication: it stands in for the clinic's provider, never for the internet.
 *
 *   GET  /               the caught mail, newest first (a page)
 *   GET  /messages.json  the same as JSON (the tests read it)
 *   POST /smtp/stop      stop accepting SMTP connections (the tests' "mailer down")
 *   POST /smtp/start     accept them again
 */
import { createServer, type Server } from 'node:http'
import { simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export type CaughtMail = {
  id: number
  receivedAt: string
  from: string
  to: string[]
  subject: string
  messageId: string | null
  text: string
  html: string
}

export type MailCatcher = { smtpPort: number; pageUrl: string; messages: CaughtMail[]; close(): Promise<void> }

/** Bounds: a message's size, and how many are kept (the oldest go first). */
const MAX_MESSAGE_BYTES = 1024 * 1024
const MAX_KEPT = 500

export async function startMailCatcher(options: { smtpPort: number; pagePort: number; host?: string }): Promise<MailCatcher> {
  const host = options.host ?? '127.0.0.1'
  const messages: CaughtMail[] = []
  let next = 1
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    size: MAX_MESSAGE_BYTES,
    banner: 'IntakePilot local mail catcher',
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          if (stream.sizeExceeded) return callback(Object.assign(new Error('Message too big'), { responseCode: 552 }))
          messages.unshift({
            id: next++,
            receivedAt: new Date().toISOString(),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject ?? '',
            messageId: parsed.messageId ?? null,
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
          })
          messages.length = Math.min(messages.length, MAX_KEPT)
          callback()
        })
        .catch((error: unknown) => callback(error instanceof Error ? error : new Error('unreadable message')))
    },
  })
  smtp.on('error', () => {})
  let listening = false
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      smtp.server.once('error', reject)
      smtp.listen(options.smtpPort, host, () => {
        smtp.server.off('error', reject)
        listening = true
        resolve()
      })
    })
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!listening) return resolve()
      listening = false
      // Refuses new connections at once; open ones are ended.
      smtp.server.close(() => resolve())
      for (const connection of (smtp as unknown as { connections: Set<{ close(): void }> }).connections ?? []) connection.close()
    })
  await listen()

  const page: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost')
    if (request.method === 'GET' && url.pathname === '/messages.json') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ smtpUp: listening, messages }))
    } else if (request.method === 'GET' && url.pathname === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(listPage(messages, listening))
    } else if (request.method === 'POST' && (url.pathname === '/smtp/stop' || url.pathname === '/smtp/start')) {
      const change = url.pathname === '/smtp/stop' ? stop() : listening ? Promise.resolve() : listen()
      change.then(
        () => response.writeHead(204).end(),
        () => response.writeHead(500).end(),
      )
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found')
    }
  })
  // Clients keep connections open between polls (a test waits 6 s between two): Node's 5 s default
  // closed them under a request on its way, which the client saw as a reset.
  page.keepAliveTimeout = 65_000
  await new Promise<void>((resolve) => page.listen(options.pagePort, host, resolve))
  return {
    smtpPort: options.smtpPort,
    pageUrl: `http://${host}:${options.pagePort}/`,
    messages,
    close: async () => {
      await stop()
      await new Promise<void>((resolve) => page.close(() => resolve()))
    },
  }
}

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function listPage(messages: CaughtMail[], up: boolean) {
  const items = messages
    .map(
      (m) => `<article><h2>${escapeHtml(m.subject)}</h2>
<p><small>${escapeHtml(m.receivedAt)} · to ${escapeHtml(m.to.join(', '))} · from ${escapeHtml(m.from)}</small></p>
<pre>${escapeHtml(m.text)}</pre></article>`,
    )
    .join('\n')
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Caught mail (${messages.length})</title><meta http-equiv="refresh" content="10">
<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}article{border-top:1px solid #ccc;padding:.5rem 0}pre{white-space:pre-wrap}</style></head>
<body><h1>Caught mail</h1><p>IntakePilot's local SMTP server${up ? '' : ' (stopped)'}: ${messages.length} message(s), newest first. Nothing here left this machine.</p>
${items || '<p>No mail yet.</p>'}</body></html>`
}
