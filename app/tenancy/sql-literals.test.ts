import { Client } from '@neondatabase/serverless'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { inlineParameters } from './sql-literals.server'

// The driver's own escaping, as the app's connections use it (it reads nothing of the client).
const escapeLiteral = (value: string): string => Client.prototype.escapeLiteral.call(null, value)
const inline = (text: string, values: unknown[]) => inlineParameters(text, values, escapeLiteral)

describe('inlineParameters', () => {
  it('writes each placeholder as the literal of its value', () => {
    expect(inline('select * from "referrals" where "id" = $1 and "status" in ($2, $3) limit $4', ['a', 'new', 'triaged', 51])).toBe(
      `select * from "referrals" where "id" = 'a' and "status" in ('new', 'triaged') limit '51'`,
    )
    expect(inline('select $1, $2, $3, $4', [null, true, 10n, new Date('2026-12-01T10:00:00Z')])).toBe(`select null, 'true', '10', '2026-12-01T10:00:00.000Z'`)
    expect(inline('select $10, $1', ['one', 2, 3, 4, 5, 6, 7, 8, 9, 'ten'])).toBe(`select 'ten', 'one'`)
  })

  it('escapes quotes and backslashes, so a value can never end its literal', () => {
    expect(inline('select $1', ["O'Brien"])).toBe(`select 'O''Brien'`)
    // The driver writes a value with a backslash as E'…' (with a space before it), the backslash doubled.
    expect(inline('select $1', ["x\\' ; drop table referrals; --"])).toBe(`select  E'x\\\\'' ; drop table referrals; --'`)
  })

  it('leaves $n alone inside strings, quoted names, dollar quotes and comments', () => {
    const text = `select '$1', "a$1", $$ $1 $$, $tag$ $1 $tag$, E'\\' $1' -- $1\n, /* $1 */ $1`
    expect(inline(text, ['v'])).toBe(`select '$1', "a$1", $$ $1 $$, $tag$ $1 $tag$, E'\\' $1' -- $1\n, /* $1 */ 'v'`)
  })

  it('refuses what it cannot write out exactly: the caller binds the values instead', () => {
    expect(inline('select $1', [['a', 'b']])).toBeNull()
    expect(inline('select $1', [{ a: 1 }])).toBeNull()
    expect(inline('select $1', [new Uint8Array([1])])).toBeNull()
    expect(inline('select $1', ['nul\0byte'])).toBeNull()
    expect(inline('select $1', [Number.NaN])).toBeNull()
    expect(inline('select $2', ['only one'])).toBeNull()
    expect(inline("select 'unterminated", [])).toBeNull()
  })

  it('a text seen before is cut the same way: each call writes its own values, and a refusal stays one', () => {
    const text = `select $1 from "t" where "a" = '$2' and "b" = $2`
    for (const [a, b] of [
      ['x', 'y'],
      ['z', "w'"],
    ])
      expect(inline(text, [a, b])).toBe(`select '${a}' from "t" where "a" = '$2' and "b" = '${b!.replace("'", "''")}'`)
    expect(inline(text, ['only one'])).toBeNull()
    expect(inline(text, ['x', 'y'])).toBe(`select 'x' from "t" where "a" = '$2' and "b" = 'y'`)
    for (let i = 0; i < 3; i++) expect(inline("select 'unterminated $1", ['v'])).toBeNull()
  })

  it('never lets a string value out of its literal, whatever it holds', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const out = inline('select $1 as v', [value])
        if (value.includes('\0')) return out === null
        // What follows `select ` is exactly one literal, then the alias: the value stayed inside it.
        const literal = out!.slice('select '.length, out!.length - ' as v'.length)
        return out!.endsWith(' as v') && literal === escapeLiteral(value)
      }),
    )
  })
})
