import { defineConfig } from '@playwright/test';
import * as path from 'node:path';

// The server under test listens here; global-setup.ts starts it.
export const PORT = Number(process.env.E2E_PORT ?? 3917);
/** The checkout the tests run in. */
export const ROOT = path.resolve(__dirname, '..');
/** The server the tests run: the release build `make run` serves. */
export const SERVER_BIN = path.join(ROOT, 'target/release/switchboard');

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  // One server and one database for the whole run: tests build on each other
  // (the setup link makes the admin who adds a representative).
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  // One more try for a failed test (a serial file runs again from its
  // start): a browser test that fails twice fails the suite, one that
  // passes the second time is listed as flaky in the report. On a loaded
  // machine a long media test has failed once where it passes alone.
  retries: 1,
  reporter: [['list']],
  globalSetup: './global-setup.ts',
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    trace: 'retain-on-failure',
    launchOptions: {
      // Debian's Chromium; Playwright never downloads a browser here.
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        '--allow-loopback-in-peer-connection',
        '--autoplay-policy=no-user-gesture-required',
      ],
    },
  },
});
