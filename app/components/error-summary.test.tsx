/**
 * The error summary as the server renders it after a failed submit without JavaScript: at the
 * top, focused by the browser on load (autofocus), each field's error a link to that field.
 */
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { ErrorSummary } from './forms'

const html = (node: React.ReactElement) => renderToStaticMarkup(node)

describe('ErrorSummary', () => {
  it('renders nothing when nothing is wrong', () => {
    expect(html(<ErrorSummary form={{ id: 'f', allErrors: {} }} />)).toBe('')
    expect(html(<ErrorSummary form={{ id: 'f', allErrors: { email: [] } }} messages={[undefined, '']} />)).toBe('')
  })

  it('links each field error to its field, in the order given, and is focused when the page loads', () => {
    const out = html(
      <ErrorSummary
        form={{ id: 'referral-v3', allErrors: { patient_last_name: ['Enter the last name'], consent: ['Confirm consent'], documents: ['Too large'] } }}
        fieldIds={{ documents: 'documents' }}
      />,
    )
    expect(out).toMatch(/^<div id="referral-v3-error-summary" tabindex="-1" autofocus="" aria-labelledby="referral-v3-error-summary-title"/)
    expect(out).toContain('<h2 id="referral-v3-error-summary-title" class="font-semibold">There is a problem</h2>')
    const links = [...out.matchAll(/<li><a href="#([^"]+)"[^>]*>([^<]+)<\/a><\/li>/g)].map((m) => [m[1], m[2]])
    expect(links).toEqual([
      ['referral-v3-patient_last_name', 'Enter the last name'],
      ['referral-v3-consent', 'Confirm consent'],
      ['documents', 'Too large'],
    ])
  })

  it('shows the form’s own errors and other messages as plain lines', () => {
    const out = html(<ErrorSummary form={{ id: 'f', allErrors: { '': ['The form is out of date'] } }} messages={['The connection was lost']} />)
    expect(out).toContain('<li>The form is out of date</li>')
    expect(out).toContain('<li>The connection was lost</li>')
    expect(out).not.toContain('<a ')
  })
})
