// Starts the real server (the release build `make run` serves) on the
// browser tests' own database, captures the setup link it logs, and stops it
// afterwards.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { PORT, ROOT as root, SERVER_BIN } from './playwright.config';

export default async function globalSetup() {
  const databaseUrl = process.env.E2E_DATABASE_URL;
  if (!databaseUrl) throw new Error('E2E_DATABASE_URL is not set: run the browser tests through `make test`');

  // A real TURN server on loopback (coturn), whose shared secret the app
  // turns into each call's credentials.
  const turnPort = PORT + 1;
  const turnSecret = `turn-secret-${process.pid}`;
  const turn = spawn(
    'turnserver',
    [
      '-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${turnPort}`,
      '--min-port=49160', '--max-port=49200', '--use-auth-secret', `--static-auth-secret=${turnSecret}`,
      '--realm=switchboard', '--no-tls', '--no-dtls', '--allow-loopback-peers', '--no-cli',
      '--log-file=stdout', '--simple-log',
    ],
    { stdio: 'ignore' },
  );
  process.on('exit', () => turn.kill('SIGTERM'));
  await new Promise<void>((resolve, reject) => {
    turn.once('spawn', resolve);
    turn.once('error', (error) => reject(new Error(`cannot start coturn's turnserver (make test installs it): ${error}`)));
  });

  // A real SMTP server on loopback (aiosmtpd) that keeps each message it
  // gets in a maildir the tests read (MAILDIR/new).
  const smtpPort = PORT + 2;
  // (aiosmtpd makes the maildir itself: it must not exist yet.)
  const maildir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-mail-')), 'inbox');
  process.env.MAILDIR = maildir;
  const smtp = spawn(
    path.join(root, 'end2end/.venv/bin/aiosmtpd'),
    ['-n', '-l', `127.0.0.1:${smtpPort}`, '-c', 'aiosmtpd.handlers.Mailbox', maildir],
    { stdio: 'ignore' },
  );
  process.on('exit', () => smtp.kill('SIGTERM'));
  await new Promise<void>((resolve, reject) => {
    smtp.once('spawn', resolve);
    smtp.once('error', (error) => reject(new Error(`cannot start aiosmtpd (make test installs it): ${error}`)));
  });

  const server = spawn(SERVER_BIN, ['serve'], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      SWITCHBOARD_LISTEN: `127.0.0.1:${PORT}`,
      SWITCHBOARD_SITE_ROOT: path.join(root, 'target/site'),
      SWITCHBOARD_LOG_FORMAT: 'json',
      RUST_LOG: 'info,sqlx=warn',
      SWITCHBOARD_GRACE_SECONDS: '3',
      SWITCHBOARD_TURN_URLS: `turn:127.0.0.1:${turnPort}?transport=udp`,
      SWITCHBOARD_TURN_SECRET: turnSecret,
      SWITCHBOARD_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      SWITCHBOARD_MAIL_FROM: 'Switchboard tests <help@example.com>',
      SWITCHBOARD_PUBLIC_URL: `http://127.0.0.1:${PORT}`,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // The server's log, kept for a failed run: scripts/test prints its
  // warnings and errors.
  const serverLog = path.join(root, 'end2end/test-results/server.log');
  fs.mkdirSync(path.dirname(serverLog), { recursive: true });
  fs.writeFileSync(serverLog, '');
  server.stdout!.on('data', (chunk) => fs.appendFileSync(serverLog, chunk));

  const setupLink = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server logged no setup link within 60 s')), 60_000);
    server.on('exit', (code) => reject(new Error(`the server exited early with ${code}`)));
    readline.createInterface({ input: server.stdout! }).on('line', (line) => {
      try {
        const event = JSON.parse(line);
        if (event.setup_link) {
          clearTimeout(timer);
          resolve(event.setup_link);
        }
      } catch {
        // Not a log line of ours; ignore.
      }
    });
  });
  process.env.SETUP_LINK = setupLink;

  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${PORT}/readyz`);
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error('the server never became ready');
    await new Promise((r) => setTimeout(r, 200));
  }

  return async () => {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    turn.kill('SIGTERM');
    smtp.kill('SIGTERM');
  };
}
