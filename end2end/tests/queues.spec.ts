// Admins make queues; a pull queue is served with "Next customer"; with
// nobody logged in, a customer is told at once.
import { test, expect } from '@playwright/test';
import { ADMIN, addRepresentative, expectAccessible, open, signIn } from './helpers';

test.describe.configure({ mode: 'serial' });

// Made fresh (and so logged out) for this test.
const AGENT = { email: 'paula@example.com', name: 'Paula Pull', password: 'paula has a long password' };

test.beforeAll(() => addRepresentative(AGENT));

test('an admin creates a pull queue served with Next customer', async ({ browser, page: admin }) => {
  await signIn(admin, ADMIN.email, ADMIN.password, '/admin/queues');
  await expect(admin).toHaveURL(/\/admin\/queues$/);
  await expectAccessible(admin, 'the admin\'s queues');
  const editor = admin.getByTestId('new-queue');
  await editor.getByLabel('Name').fill('Billing');
  await editor.getByLabel('Routing').selectOption('pull');
  await editor.getByLabel(`${AGENT.name} serves this queue`).check();
  await editor.getByRole('button', { name: 'Create queue' }).click();
  await expect(admin.getByRole('status')).toHaveText('Saved "Billing".');
  await expect(admin.getByTestId('queue').filter({ hasText: 'Billing' })).toBeVisible();

  // Nobody serving Billing is logged in: the customer is told at once.
  const customer = await (await browser.newContext()).newPage();
  await open(customer, '/');
  await customer.getByLabel('Topic').selectOption({ label: 'Billing' });
  await customer.getByLabel('Your name').fill('Petra Payer');
  await customer.getByLabel('What do you need help with?').fill('A double charge');
  await customer.getByLabel('Chat').check();
  await customer.getByRole('button', { name: 'Talk to a representative' }).click();
  await expect(customer.getByRole('alert')).toContainText('Nobody is available right now');

  // Quinn opens the desk; now the customer can wait.
  const desk = await (await browser.newContext()).newPage();
  await signIn(desk, AGENT.email, AGENT.password);
  await expect(desk.getByTestId('agent-state')).toContainText('Not ready');
  await customer.getByRole('button', { name: 'Talk to a representative' }).click();
  await expect(customer.getByTestId('position')).toHaveText('1');
  await expect(desk.locator('ul.queues')).toContainText('Billing · 1 waiting');

  await desk.getByRole('button', { name: 'Next customer' }).click();

  await expect(desk.getByTestId('my-customer')).toContainText('Petra Payer');
  await expect(customer.getByTestId('matched')).toHaveText(`You're talking with Paula`);
  await desk.getByRole('button', { name: 'Next customer' }).click();
  await expect(desk.getByRole('status')).toHaveText('Nobody is waiting right now.');
});
