import { test } from 'node:test'
import assert from 'node:assert/strict'
import { classifyError } from './http-client.js'
import { FORBIDDEN_DESTINATION_CODE } from './ssrf.js'

function coded (code: string, message = `boom ${code} Authorization: Bearer s3cr3t`): Error {
  return Object.assign(new Error(message), { code })
}

test('errors are sorted into timeout, network and blocked with fixed, header-free messages', () => {
  const cases: Array<[unknown, ReturnType<typeof classifyError>]> = [
    [coded('ECONNREFUSED'), { kind: 'network', error: 'connection refused' }],
    [coded('ECONNRESET'), { kind: 'network', error: 'connection reset by the server' }],
    [coded('UND_ERR_SOCKET'), { kind: 'network', error: 'connection closed by the server before a complete response' }],
    [coded('ENOTFOUND'), { kind: 'network', error: 'host not found (DNS lookup failed)' }],
    [coded('EAI_AGAIN'), { kind: 'network', error: 'DNS lookup failed temporarily' }],
    [coded('EHOSTUNREACH'), { kind: 'network', error: 'host unreachable' }],
    [coded('UND_ERR_CONNECT_TIMEOUT'), { kind: 'timeout', error: 'no complete response within 5000 ms' }],
    [coded('UND_ERR_HEADERS_TIMEOUT'), { kind: 'timeout', error: 'no complete response within 5000 ms' }],
    [coded('UND_ERR_BODY_TIMEOUT'), { kind: 'timeout', error: 'no complete response within 5000 ms' }],
    [coded('CERT_HAS_EXPIRED'), { kind: 'network', error: 'TLS error (CERT_HAS_EXPIRED)' }],
    [coded('UND_ERR_INVALID_ARG'), { kind: 'blocked', reason: 'invalid-url', error: 'request could not be sent: invalid URL or header value' }],
    [coded(FORBIDDEN_DESTINATION_CODE), { kind: 'blocked', reason: 'private-address', error: 'destination address is not allowed (private, loopback or internal)' }],
    // Node's autoSelectFamily: one error per address tried.
    [new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')], 'all failed'), { kind: 'network', error: 'connection refused' }],
    [new Error('wrapped', { cause: coded('ECONNRESET') }), { kind: 'network', error: 'connection reset by the server' }],
    [coded('E_SOMETHING_NEW'), { kind: 'network', error: 'request failed (E_SOMETHING_NEW)' }],
    [coded('not a code: Bearer s3cr3t'), { kind: 'network', error: 'request failed (unknown error)' }],
    [new Error('Authorization: Bearer s3cr3t'), { kind: 'network', error: 'request failed' }],
    ['a string', { kind: 'network', error: 'request failed' }],
  ]
  for (const [err, expected] of cases) {
    assert.deepEqual(classifyError(err, 5_000), expected, String((err as { code?: string }).code ?? err))
  }
})
