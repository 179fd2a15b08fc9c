// Integrations: an admin registers an API client in the browser, the
// client calls /api/v1 with a token it signs itself, and is refused once
// disabled; an admin adds a webhook receiver, which gets signed events, and
// sends one again from the page.
import { test, expect } from '@playwright/test';
import { createHmac, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { ADMIN, expectAccessible, signIn } from './helpers';
import { PORT } from '../playwright.config';

const SITE = `http://127.0.0.1:${PORT}`;

/** A client assertion (RFC 7523): HS256 with the client's secret. */
function token(client: string, secret: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ iss: client, sub: client, aud: `${SITE}/api/v1`, iat: now, exp: now + 300, jti: randomUUID() })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

test('the API reference is readable by everyone', async ({ page }) => {
  const reference = await page.goto('/api/v1/docs');
  expect(reference?.status()).toBe(200);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expectAccessible(page, 'the API reference');
});

test('an admin adds an API client, which calls the API until disabled', async ({ page, request }) => {
  await signIn(page, ADMIN.email, ADMIN.password, '/admin/api-clients');
  await expectAccessible(page, 'the admin\'s API clients');
  // A scope beyond the client's own things says so.
  await expect(page.getByLabel(/help_sessions:all/)).not.toBeChecked();
  await expect(page.locator('label', { hasText: 'help_sessions:all' })).toContainText('ALL customers');
  await page.getByLabel('Name', { exact: true }).fill('Shop backend');
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

test('an admin adds a webhook receiver, sees its deliveries and sends one again', async ({ page, request }) => {
  // A receiver on another port, as a CRM would be.
  const got: { id: string; timestamp: string; signature: string; body: string }[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const header = (name: string) => String(req.headers[name] ?? '');
      got.push({ id: header('webhook-id'), timestamp: header('webhook-timestamp'), signature: header('webhook-signature'), body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

  await signIn(page, ADMIN.email, ADMIN.password, '/admin/webhooks');
  await expectAccessible(page, 'the admin\'s webhooks');
  await page.getByLabel('Allow receivers on private addresses').check();
  await page.getByLabel('URL').fill(url);
  await page.getByLabel('help_session.entered').check();
  await page.getByRole('button', { name: 'Add receiver' }).click();
  const secret = (await page.getByTestId('new-webhook-secret').locator('code').textContent())!.trim();
  expect(secret).toMatch(/^whsec_/);

  // A customer asks for a call back in General (the service kit's API; a
  // callback is taken whoever is logged in).
  const queues = await (await request.post('/api/help/queues', { headers: { accept: 'application/json' } })).json();
  const general = queues.find((q: { name: string }) => q.name === 'General').id;
  const made = await request.post('/help/session', {
    data: { name: 'Hook Customer', reason: 'Order 77', channel: 'callback', phone: '+14155550199', queue: general },
  });
  const { help_session_id: callback, token } = await made.json();
  expect((await request.post('/help/queue', { headers: { authorization: `Bearer ${token}` } })).status()).toBe(200);
  await expect.poll(() => got.length).toBe(1);
  const [first] = got;
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${first.id}.${first.timestamp}.${first.body}`).digest('base64');
  expect(first.signature).toBe(`v1,${expected}`);
  expect(JSON.parse(first.body)).toMatchObject({ type: 'help_session.entered', data: { sequence: 1 } });

  // The admin sees it delivered and sends it again: the same id.
  const row = page.getByTestId('webhooks').locator('tr', { hasText: url });
  await row.getByRole('button', { name: 'Deliveries' }).click();
  const delivery = page.getByTestId('deliveries').locator('tr', { hasText: 'help_session.entered' });
  await expect(delivery).toContainText('delivered');
  await expect(delivery).toContainText('204');
  await delivery.getByRole('button', { name: 'Resend' }).click();
  await expect(page.getByText('1 delivery will be sent again.')).toBeVisible();
  await expect.poll(() => got.length).toBe(2);
  expect(got[1].id).toBe(first.id);

  // Nothing left behind for the tests after: the callback withdrawn (it
  // would be ahead in General's line), the receiver deleted.
  const withdrawn = await request.delete(`/help/queue/${callback}`, { headers: { authorization: `Bearer ${token}` } });
  expect(withdrawn.status()).toBe(204);
  await row.getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByText('No webhook endpoints yet.')).toBeVisible();
  receiver.close();
});
