/** The audit row's IP: only Cloudflare's own header, only behind Cloudflare. */
import { describe, expect, test } from 'vitest'
import { auditRequest } from './audit.server'

const request = (headers: Record<string, string>) => new Request('https://intake.example.org/queue', { headers })

describe('the IP an audit row records', () => {
  test('behind Cloudflare: CF-Connecting-IP, which its edge sets; never X-Forwarded-For', () => {
    const behind = { behindCloudflare: true }
    expect(auditRequest(request({ 'CF-Connecting-IP': '198.51.100.4', 'X-Forwarded-For': '6.6.6.6' }), 'r', behind).ip).toBe('198.51.100.4')
    expect(auditRequest(request({ 'CF-Connecting-IP': '2001:db8::1' }), 'r', behind).ip).toBe('2001:db8::1')
    expect(auditRequest(request({ 'X-Forwarded-For': '6.6.6.6, 10.0.0.1' }), 'r', behind).ip).toBeNull()
    // Not an address: nothing, rather than whatever text it was.
    expect(auditRequest(request({ 'CF-Connecting-IP': "1.2.3.4'; drop" }), 'r', behind).ip).toBeNull()
    expect(auditRequest(request({ 'CF-Connecting-IP': 'x'.repeat(100) }), 'r', behind).ip).toBeNull()
  })

  test("anywhere else both headers are the client's own: nothing is recorded", () => {
    expect(auditRequest(request({ 'CF-Connecting-IP': '198.51.100.4', 'X-Forwarded-For': '6.6.6.6' }), 'r').ip).toBeNull()
    expect(auditRequest(request({ 'CF-Connecting-IP': '198.51.100.4' }), 'r', { behindCloudflare: false }).ip).toBeNull()
  })
})
