/**
 * The one way tests wait: poll `check` until it returns something other than false, null or
 * undefined, and return that. Deadlines are generous (tests must pass on a loaded 2-core machine);
 * the message names what was awaited.
 *
 * @example
 * const delivery = await waitFor('the delivery to succeed', async () => {
 *   const d = await store.getDelivery(ws, id)
 *   return d?.status === 'succeeded' ? d : null
 * })
 */
export async function waitFor<T> (
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 60_000,
  intervalMs = 20,
): Promise<Exclude<T, false | null | undefined>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== false && value !== null && value !== undefined) return value as Exclude<T, false | null | undefined>
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
