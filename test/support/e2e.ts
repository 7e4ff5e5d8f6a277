import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { exitOf, repoRoot, startCli, waitForOutput } from './cli';

/** Debian's Chromium, as the end-to-end tests drive it. */
export const CHROMIUM = '/usr/bin/chromium';
/** Where the end-to-end tests save their screenshots. */
export const SHOTS = path.join(repoRoot, 'test-output', 'e2e');
/** Headless, and quiet on a closed network (no background connections to refuse). */
export const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Chromium at `url` (a `serve` address with its token) once the overview shows; page errors go to `errors`. */
export async function openOverview(url: string, errors: string[]): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(url);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  return { browser, page };
}

/** After a failed test: a screenshot named after it and the page's text, to see what it showed. */
export async function explainFailure(ctx: { task: { name: string; result?: { state?: string } } }, page: Page | undefined, prefix: string): Promise<void> {
  if (ctx.task.result?.state !== 'fail' || !page) return;
  const name = ctx.task.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  await page.screenshot({ path: path.join(SHOTS, `failed-${prefix}-${name}.png`), fullPage: true }).catch(() => {});
  console.error(`page at ${page.url()} shows:\n${await page.locator('body').innerText().catch(() => '(unreadable)')}`);
}

/** Stops a `serve` started by a test (SIGTERM, then waits for it to exit). */
export async function stopServe(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exit = exitOf(child as Parameters<typeof exitOf>[0]);
  child.kill('SIGTERM');
  await exit;
}

/** A `portent serve` started by a test. */
export type ServeChild = ReturnType<typeof startCli>;

/**
 * `portent serve` on the database `file` with `args` after it (on port 0, capture off), once it
 * says it is serving: the child and its address with the token (from the private `.url` file, as
 * a service's user reads it: stdout is a pipe). A serve that never gets there fails with the end
 * of its stderr.
 */
export async function startServe(file: string, args: readonly string[] = []): Promise<{ child: ServeChild; base: string }> {
  const child = startCli(['serve', '--port', '0', '--db', file, ...args, '--no-capture']);
  let stderr = '';
  // Drained, so the child never blocks on a full pipe, and kept for a failure's message.
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  await waitForOutput(child.stdout, /Portent is serving at /, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}\nserve's stderr:\n${stderr}`);
  });
  return { child, base: fs.readFileSync(`${file}.url`, 'utf8').trim() };
}

/**
 * Polls `probe` every 200 ms until it gives something other than false, null or undefined, and
 * returns that; fails naming `what` after `timeoutMs`.
 */
export async function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 20_000): Promise<Exclude<T, false | null | undefined>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== false && value !== null && value !== undefined) return value as Exclude<T, false | null | undefined>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
