// `make run` as a newcomer runs it, the README's first command: with no
// DATABASE_URL the server starts a PostgreSQL of its own, logs the setup
// link, serves pages that hydrate, and stops cleanly on Ctrl-C. The suite
// built the release already, so make finds it up to date; if `make run`
// could not build or start, this test fails.
import { expect, test } from '@playwright/test';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PORT, ROOT } from '../playwright.config';

test('make run builds, starts its own PostgreSQL, serves a page that hydrates, and stops cleanly', async ({ page }) => {
  test.setTimeout(240_000);
  const port = PORT + 10;
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-make-run-'));
  // Open to the postgres user the server runs PostgreSQL as when it runs as root.
  fs.chmodSync(data, 0o755);
  const pgdata = path.join(data, 'postgres');
  // A user's shell: none of the suite's database or make settings.
  const env: NodeJS.ProcessEnv = { ...process.env, SWITCHBOARD_LISTEN: `127.0.0.1:${port}`, SWITCHBOARD_PGDATA: pgdata };
  for (const name of ['DATABASE_URL', 'E2E_DATABASE_URL', 'MAKEFLAGS', 'MAKELEVEL', 'MFLAGS', 'RUST_LOG']) delete env[name];
  // Its own process group, so Ctrl-C reaches make and the server alike.
  const run = spawn('make', ['run'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => run.once('exit', (code) => resolve(code)));
  let log = '';
  for (const stream of [run.stdout!, run.stderr!]) stream.on('data', (chunk) => (log += chunk.toString()));
  // The log's colours, which the text format writes even to a pipe.
  const plain = () => log.replace(/\x1b\[[0-9;]*m/g, '');
  try {
    const setupLink = await waitFor(run, () => plain().match(/setup_link=(\S+)/)?.[1], 180_000, plain);
    expect(setupLink).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/setup\\?token=`));
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);

    await page.goto(`http://127.0.0.1:${port}/`);
    await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
    await page.goto(setupLink);
    await expect(page.getByRole('heading', { name: 'Create the admin account' })).toBeVisible();
    await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();

    process.kill(-run.pid!, 'SIGINT');
    await Promise.race([exited, new Promise((_, reject) => setTimeout(() => reject(new Error(`make run did not stop:\n${plain()}`)), 60_000))]);
    expect(plain()).toContain('stopped serving');
    expect(plain()).toContain('embedded PostgreSQL stopped');
    expect(fs.existsSync(path.join(pgdata, 'postmaster.pid')), 'PostgreSQL still running after the stop').toBe(false);
  } finally {
    if (run.exitCode === null && run.signalCode === null) process.kill(-run.pid!, 'SIGKILL');
    fs.rmSync(data, { recursive: true, force: true });
  }
});

/** Polls until `found` gives a value; fails with the log if the process ends or time runs out. */
async function waitFor<T>(child: ChildProcess, found: () => T | undefined, ms: number, log: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = found();
    if (value !== undefined) return value;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`make run ended early:\n${log()}`);
    if (Date.now() > deadline) throw new Error(`make run logged no setup link in ${ms / 1000} s:\n${log()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
