// Supervision (SPEC §8): an admin makes Sue the supervisor of a queue; her
// wallboard follows the queue and its representative live.
import { test, expect } from '@playwright/test';
import { ADMIN, addRepresentative, open, signIn } from './helpers';

test.describe.configure({ mode: 'serial' });

const SUE = { email: 'sue@example.com', name: 'Sue Supervisor', password: 'sue has a long password' };
const WALT = { email: 'walt@example.com', name: 'Walt Wallboard', password: 'walt has a long password' };

test.beforeAll(() => {
  addRepresentative(SUE, 'supervisor');
  addRepresentative(WALT);
});

test('the wallboard follows the queue and its representatives live', async ({ browser, page: admin }) => {
  test.setTimeout(90_000);
  // The admin gives Walt a queue of his own, Floor, supervised by Sue
  // (and takes him out of General, where earlier tests left customers).
  await signIn(admin, ADMIN.email, ADMIN.password, '/admin/queues');
  const general = admin.getByTestId('queue').filter({ has: admin.getByRole('heading', { name: 'General', exact: true }) });
  await general.getByLabel(`${WALT.name} serves this queue`).uncheck();
  await general.getByRole('button', { name: 'Save' }).click();
  await expect(admin.getByRole('status')).toHaveText('Saved "General".');
  const floor = admin.getByTestId('new-queue');
  await floor.getByLabel('Name').fill('Floor');
  await floor.getByLabel(`${WALT.name} serves this queue`).check();
  await floor.getByLabel(`${SUE.name} supervises this queue`).check();
  await floor.getByRole('button', { name: 'Create queue' }).click();
  await expect(admin.getByRole('status')).toHaveText('Saved "Floor".');

  const sue = await (await browser.newContext()).newPage();
  await signIn(sue, SUE.email, SUE.password, '/supervisor');
  await expect(sue.getByRole('heading', { name: 'Wallboard' })).toBeVisible();
  // Her queue only, with its one representative.
  await expect(sue.getByTestId('wall-queue')).toHaveCount(1);
  const queue = sue.getByTestId('wall-queue').filter({ hasText: 'Floor' });
  await expect(queue).toBeVisible();
  await expect(sue.getByTestId('wall-person')).toHaveCount(1);
  const walt = sue.getByTestId('wall-person').filter({ hasText: WALT.name });
  await expect(walt.getByTestId('wall-state')).toHaveText('Logged out');

  // Walt opens his desk and changes state: the wallboard follows.
  const desk = await (await browser.newContext()).newPage();
  await signIn(desk, WALT.email, WALT.password);
  await expect(walt.getByTestId('wall-state')).toHaveText(/Not ready/);
  await desk.getByLabel('Not ready reason').selectOption('Lunch');
  await desk.getByRole('button', { name: 'Not ready', exact: true }).click();
  await expect(walt.getByTestId('wall-state')).toHaveText('Not ready (Lunch)');

  // A customer enters: the queue shows them waiting.
  const customer = await (await browser.newContext()).newPage();
  await open(customer, '/');
  await customer.getByLabel('Topic').selectOption({ label: 'Floor' });
  await customer.getByLabel('Your name').fill('Wanda Waiting');
  await customer.getByLabel('What do you need help with?').fill('A question for the wallboard');
  await customer.getByLabel('Audio only', { exact: true }).check();
  await customer.getByRole('button', { name: 'Talk to a representative' }).click();
  await expect(customer.getByTestId('position')).toHaveText('1');
  await expect(queue.getByTestId('wall-waiting')).toHaveText('1');

  // Walt takes her and holds the call: the wallboard shows it.
  await desk.getByRole('button', { name: 'Ready', exact: true }).click();
  await desk.getByTestId('offer').filter({ hasText: 'Wanda Waiting' }).getByRole('button', { name: 'Accept' }).click();
  const call = walt.getByTestId('wall-customer').filter({ hasText: 'Wanda Waiting' });
  await expect(call.getByTestId('wall-customer-status')).toHaveText('talking');
  await expect(queue.getByTestId('wall-waiting')).toHaveText('0');
  await desk.getByTestId('my-customer').getByRole('button', { name: 'Hold' }).click();
  await expect(call.getByTestId('wall-customer-status')).toHaveText('on hold');

  // Large type for a wall screen.
  await sue.getByTestId('large-type').check();
  await expect(sue.locator('.wallboard.large')).toBeVisible();

  const card = desk.getByTestId('my-customer');
  await card.getByRole('button', { name: 'End', exact: true }).click();
  await card.getByRole('button', { name: 'Done' }).click();
  await desk.getByRole('button', { name: 'Log out of queues' }).click();
  await expect(walt.getByTestId('wall-state')).toHaveText('Logged out');
  for (const page of [sue, desk, customer]) await page.context().close();
});
