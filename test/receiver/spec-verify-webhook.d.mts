export function verifyWebhook (body: string, signature: string, timestamp: string, secret: string): boolean
