/**
 * Debian's Chromium, headless, driven by playwright-core, for the dashboard's browser tests. They
 * skip (with this reason) where it is not installed.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
/** Screenshots of the browser tests (git-ignored; docs/dashboard.md lists them). */
export const SHOTS = join(process.cwd(), 'test-output', 'screenshots')

/** false when Chromium is there, else why the test is skipped. */
export const skipWithoutChromium: false | string = existsSync(CHROMIUM) ? false : `no ${CHROMIUM} (apt-get install chromium)`

export async function launchChromium (): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true })
  return await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
}
