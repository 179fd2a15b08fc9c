// Admins make queues; a pull queue is served with "Next customer"; with
// nobody logged in, a customer is told at once. A queue for one language
// is offered to customers whose browser speaks it, and the representative
// sees the customer's language.
import { test, expect } from '@playwright/test';
import { ADMIN, addRepresentative, expectAccessible, open, ownQueue, signIn } from './helpers';

test.describe.configure({ mode: 'serial' });

// Made fresh (and so logged out) for this test.
const AGENT = { email: 'paula@example.com', name: 'Paula Pull', password: 'paula has a long password' };

const DORA = { email: 'dora@example.com', name: 'Dora Deutsch', password: 'dora has a long password' };

test.beforeAll(() => {
  addRepresentative(AGENT);
  addRepresentative(DORA);
});

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

test('a queue for German speakers is offered to German browsers only, and the desk shows the customer\'s language', async ({
  browser,
  page: admin,
}) => {
  const queue = await ownQueue(admin, DORA, 'Deutsch');
  await queue.getByLabel('Language').selectOption('de');
  await queue.getByRole('button', { name: 'Create queue' }).click();
  await expect(admin.getByRole('status')).toHaveText('Saved "Deutsch".');
  const desk = await (await browser.newContext()).newPage();
  await signIn(desk, DORA.email, DORA.password);
  await desk.getByRole('button', { name: 'Ready', exact: true }).click();

  // An English browser is not offered it; a German one (de-AT) is.
  const english = await (await browser.newContext({ locale: 'en-GB' })).newPage();
  await open(english, '/');
  await expect(english.getByLabel('Topic').locator('option', { hasText: 'Deutsch' })).toHaveCount(0);
  const german = await (await browser.newContext({ locale: 'de-AT' })).newPage();
  await open(german, '/');
  await german.getByLabel('Topic').selectOption({ label: 'Deutsch' });
  await german.getByLabel('Your name').fill('Dieter Deutsch');
  await german.getByLabel('What do you need help with?').fill('Meine Rechnung');
  await german.getByLabel('Chat').check();
  await german.getByRole('button', { name: 'Talk to a representative' }).click();

  const offer = desk.getByTestId('offer').filter({ hasText: 'Dieter Deutsch' });
  await expect(offer.getByTestId('offer-language')).toHaveText('Deutsch');
  await expect(offer.getByTestId('offer-language')).toHaveAttribute('lang', 'de');
  await offer.getByRole('button', { name: 'Accept' }).click();
  const card = desk.getByTestId('my-customer').filter({ hasText: 'Dieter Deutsch' });
  await expect(card.getByTestId('detail-language')).toHaveText('Deutsch');
  await card.getByRole('button', { name: 'End', exact: true }).click();
  await card.getByRole('button', { name: 'Done' }).click();
  await desk.getByRole('button', { name: 'Log out of queues' }).click();
  for (const page of [desk, english, german]) await page.context().close();
});
