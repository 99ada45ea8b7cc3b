/** Polls `check` until it gives a value (not null/undefined); fails naming `what` after `timeoutMs`. */
export async function waitForValue<T> (what: string, check: () => T | null | undefined | Promise<T | null | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== null && value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${timeoutMs} ms)`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
