// Integrations: an admin registers an API client in the browser, the
// client calls /api/v1 with a token it signs itself, and is refused once
// disabled.
import { test, expect } from '@playwright/test';
import { createHmac, randomUUID } from 'node:crypto';
import { ADMIN, signIn } from './helpers';
import { PORT } from '../playwright.config';

const SITE = `http://127.0.0.1:${PORT}`;

/** A client assertion (RFC 7523): HS256 with the client's secret. */
function token(client: string, secret: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ iss: client, sub: client, aud: `${SITE}/api/v1`, iat: now, exp: now + 300, jti: randomUUID() })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

test('an admin adds an API client, which calls the API until disabled', async ({ page, request }) => {
  await signIn(page, ADMIN.email, ADMIN.password, '/admin/api-clients');
  await page.getByLabel('Name').fill('Shop backend');
  await page.getByLabel('queues:read').check();
  await page.getByLabel('help_sessions:write').check();
  await page.getByRole('button', { name: 'Add client' }).click();

  const shown = page.getByTestId('new-secret');
  await expect(shown).toContainText('The secret of Shop backend');
  const client = (await shown.getByTestId('client-id').textContent())!.trim();
  const secret = (await shown.getByTestId('secret').textContent())!.trim();
  const row = page.getByTestId('api-clients').locator('tr', { hasText: 'Shop backend' });
  await expect(row).toContainText('help_sessions:write, queues:read');

  const queues = await request.get('/api/v1/queues', { headers: { authorization: `Bearer ${token(client, secret)}` } });
  expect(queues.status()).toBe(200);
  expect((await queues.json()).queues.map((q: { name: string }) => q.name)).toContain('General');

  await row.getByRole('button', { name: 'Disable' }).click();
  await expect(row).toContainText('Disabled');
  await expect(row).not.toContainText('never'); // used once, and the list says when
  const refused = await request.get('/api/v1/queues', { headers: { authorization: `Bearer ${token(client, secret)}` } });
  expect(refused.status()).toBe(403);
  expect((await refused.json()).error.code).toBe('client_disabled');
});
