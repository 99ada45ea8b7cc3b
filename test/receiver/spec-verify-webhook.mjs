// The spec's "Verification Examples" snippet, exactly as printed, with only `require('crypto')`
// turned into an import. Kept in JavaScript so not one character of it has to change.
/* global Buffer */
import crypto from 'node:crypto'

function verifyWebhook(body, signature, timestamp, secret) {
const expected = crypto
.createHmac('sha256', secret)
.update(`${timestamp}.${body}`)
.digest('hex');
return crypto.timingSafeEqual(
Buffer.from(`sha256=${expected}`),
Buffer.from(signature)
);
}

export { verifyWebhook }
