import { test } from 'node:test'
import assert from 'node:assert/strict'
import { loadSignatureVectors } from '../helpers/signature-vectors.js'
import { runPython } from '../helpers/python.js'

// docs/wire-format.md in Python's standard library, a third implementation besides the signer and the
// node:crypto check in src/signing/signer.test.ts.
const SCRIPT = `
import sys, json, hmac, hashlib, base64
vectors = json.loads(sys.stdin.buffer.read().decode('utf-8'))
out = []
for v in vectors:
    method, secret, ts = v['method'], v['secret'], str(v['timestamp'])
    message = ts.encode('ascii') + b'.' + v['body'].encode('utf-8')
    if method in ('hmac_sha256', 'hmac_sha1'):
        algo = 'sha256' if method == 'hmac_sha256' else 'sha1'
        digest = hmac.new(secret.encode('utf-8'), message, getattr(hashlib, algo)).hexdigest()
        out.append({'X-Kejue-Timestamp': ts, 'X-Kejue-Signature': algo + '=' + digest})
    elif method == 'bearer':
        out.append({'Authorization': 'Bearer ' + secret})
    elif method == 'standard_webhooks':
        seconds = str(v['timestamp'] // 1000)
        key = base64.b64decode(secret[len('whsec_'):])
        signed = (v['messageId'] + '.' + seconds + '.').encode('ascii') + v['body'].encode('utf-8')
        sig = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode('ascii')
        out.append({'webhook-id': v['messageId'], 'webhook-timestamp': seconds, 'webhook-signature': 'v1,' + sig})
    elif method == 'basic_auth':
        out.append({'Authorization': 'Basic ' + base64.b64encode(secret.encode('utf-8')).decode('ascii')})
    else:
        out.append({})
json.dump(out, sys.stdout)
`

test('python3 hmac/base64 computes the same expected headers for every published vector', () => {
  const vectors = loadSignatureVectors()
  const fromPython = runPython(SCRIPT, vectors) as Array<Record<string, string>>
  assert.equal(fromPython.length, vectors.length)
  vectors.forEach((v, i) => assert.deepEqual(fromPython[i], v.expectedHeaders, v.name))
})
