import { expect, Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

/** Adds a representative with the command line (they join "General"). */
export function addRepresentative(who: { email: string; name: string; password: string }, role = 'agent') {
  execFileSync(
    path.resolve(__dirname, '../../target/debug/switchboard'),
    ['user', 'add', '--email', who.email, '--name', who.name, '--role', role],
    { input: `${who.password}\n`, env: { ...process.env, DATABASE_URL: process.env.E2E_DATABASE_URL, RUST_LOG: 'warn' } },
  );
}

/** Opens a page and waits until it is hydrated (interactive). */
export async function open(page: Page, url: string) {
  const response = await page.goto(url);
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  return response;
}

export async function signIn(page: Page, email: string, password: string, next = '') {
  await open(page, next ? `/login?next=${encodeURIComponent(next)}` : '/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export const ADMIN = {
  email: 'owner@example.com',
  name: 'Olivia Owner',
  password: 'olivia has a long password',
};

export const REP = {
  email: 'rita@example.com',
  name: 'Rita Rep',
  password: 'rita has a long password',
};
