import { test } from 'node:test'
import assert from 'node:assert/strict'
import { signHeaders } from '../../src/signing/signer.js'
import { runPython } from '../helpers/python.js'

// What a Python receiver would write (docs/receiving.md): recompute and compare_digest.
const VERIFY_SCRIPT = `
import sys, json, hmac, hashlib
results = []
for d in json.loads(sys.stdin.buffer.read().decode('utf-8')):
    algo, _, received = d['signature'].partition('=')
    if algo not in ('sha256', 'sha1'):
        results.append(False)
        continue
    signed = d['timestamp'].encode('ascii') + b'.' + d['body'].encode('utf-8')
    expected = hmac.new(d['secret'].encode('utf-8'), signed, getattr(hashlib, algo)).hexdigest()
    results.append(hmac.compare_digest(expected, received))
json.dump(results, sys.stdout)
`

const body = JSON.stringify({
  event: 'call.ended',
  event_id: 'evt_py',
  workspace_id: 'ws_xyz',
  timestamp: new Date().toISOString(),
  data: { transcript: 'Agent: 您好 👋 José\u0301 — '.repeat(200) },
  metadata: {},
})

function delivery (method: 'hmac_sha256' | 'hmac_sha1', secret: string, signedBody: string, sentBody = signedBody) {
  const headers = signHeaders(method, secret, signedBody, Date.now())
  return { secret, body: sentBody, timestamp: headers['X-Kejue-Timestamp'], signature: headers['X-Kejue-Signature'] }
}

test('python3 hmac verifies hmac_sha256 and hmac_sha1 deliveries signed by our signer, and rejects tampering', () => {
  const results = runPython(VERIFY_SCRIPT, [
    delivery('hmac_sha256', 'whsec_py_secret', body),
    delivery('hmac_sha1', 'whsec_py_secret', body),
    delivery('hmac_sha256', 'clé-🔑', body),
    delivery('hmac_sha256', 'whsec_py_secret', body, body.replace('José', 'Jose')),
    delivery('hmac_sha1', 'whsec_py_secret', body, `${body} `),
  ])
  assert.deepEqual(results, [true, true, true, false, false])
})
