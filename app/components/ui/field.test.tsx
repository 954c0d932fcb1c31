/**
 * The shared form parts, rendered as the server renders them: the label names the control,
 * the errors carry the id conform puts in the control's aria-describedby, and a filter keeps
 * the value from the address.
 */
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { DateField, Field, filterProps, SelectField, TextareaField } from './field'

const html = (node: React.ReactElement) => renderToStaticMarkup(node)

describe('Field and its kin', () => {
  it('ties the label and the errors to the control', () => {
    const out = html(
      <Field
        label="Email"
        inputProps={{ id: 'invite-email', name: 'email', 'aria-invalid': true, 'aria-describedby': 'invite-email-error' }}
        errors={['Enter a valid email address']}
      />,
    )
    expect(out).toContain('<label for="invite-email"')
    expect(out).toMatch(
      /<input id="invite-email" name="email" aria-invalid="true" aria-describedby="invite-email-error" class="[^"]*rounded-md border border-slate-300/,
    )
    expect(out).toContain('<div id="invite-email-error" role="alert"')
    // A list inside the alert, not an alert that was a list: its items stay list items.
    expect(out).toMatch(/<div id="invite-email-error" role="alert"[^>]*><ul[^>]*><li>Enter a valid email address<\/li><\/ul><\/div>/)
  })

  it('shows no error list when there is nothing wrong', () => {
    expect(html(<Field label="Name" inputProps={{ id: 'n' }} />)).not.toContain('role="alert"')
    expect(html(<Field label="Name" inputProps={{ id: 'n' }} errors={[]} />)).not.toContain('role="alert"')
  })

  it('keeps a filter’s value and sends it under its name', () => {
    const out = html(
      <SelectField
        label="Status"
        selectProps={filterProps('status', 'all')}
        options={[
          ['open', 'Open'],
          ['all', 'All'],
        ]}
      />,
    )
    expect(out).toContain('<label for="filter-status"')
    expect(out).toMatch(/<select id="filter-status" name="status"/)
    expect(out).toContain('<option value="all" selected="">All</option>')
    expect(html(<DateField label="From" inputProps={filterProps('from', undefined)} />)).toMatch(
      /<input id="filter-from" name="from" type="date"[^>]* value=""/,
    )
  })

  it('renders text areas and choices given as children', () => {
    expect(html(<TextareaField label="Note" textareaProps={{ id: 'note', name: 'body' }} errors={['Write something first']} />)).toContain(
      '<div id="note-error" role="alert"',
    )
    expect(
      html(
        <SelectField label="Role" selectProps={{ id: 'role' }}>
          <option value="staff">Staff</option>
        </SelectField>,
      ),
    ).toContain('<option value="staff">Staff</option>')
  })
})
