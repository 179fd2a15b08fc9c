// Callbacks and places kept (SPEC §5, §7): a callback survives its closed
// page, is dialled by a tel: link, tried again after the queue's delay and
// reached; a customer keeping their place is told by the page (the
// Notification API) and by email (a real SMTP server on loopback,
// global-setup.ts), and the email's link brings them back to the front.
import { test, expect, Browser, Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addRepresentative, open, ownQueue, signIn } from './helpers';

test.describe.configure({ mode: 'serial' });

const RHEA = { email: 'rhea@example.com', name: 'Rhea Ring', password: 'rhea has a long password' };

test.beforeAll(() => addRepresentative(RHEA));

/** Counts the notifications the page creates (in `window.notes`). */
const COUNT_NOTIFICATIONS = `(() => {
  window.notes = [];
  const Native = window.Notification;
  class Counted extends Native {
    constructor(title, options) {
      window.notes.push(title);
      super(title, options);
    }
  }
  Object.defineProperty(Counted, 'permission', { get: () => Native.permission });
  Counted.requestPermission = (...args) => Native.requestPermission(...args);
  window.Notification = Counted;
})()`;

/** A customer of the "Callbacks" queue, asking on `channel`. */
async function asking(page: Page, name: string, channel: string) {
  await open(page, '/');
  await page.getByLabel('Topic').selectOption({ label: 'Callbacks' });
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('What do you need help with?').fill(`${name} has a question about a bill`);
  await page.getByLabel(channel, { exact: true }).check();
}

async function customer(browser: Browser, name: string, channel: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await asking(page, name, channel);
  await page.getByRole('button', { name: 'Talk to a representative' }).click();
  await expect(page.getByTestId('position')).toBeVisible();
  return page;
}

/** Rhea's desk, Ready. */
async function desk(browser: Browser): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, RHEA.email, RHEA.password);
  await expect(page.getByTestId('agent-state')).toHaveText(/Not ready|Ready/);
  if ((await page.getByTestId('agent-state').textContent()) !== 'Ready') {
    await page.getByRole('button', { name: 'Ready', exact: true }).click();
  }
  await expect(page.getByTestId('agent-state')).toHaveText('Ready');
  return page;
}

/** The email sent to `to`, decoded, once the SMTP server has it. */
async function mailTo(to: string): Promise<string> {
  const inbox = path.join(process.env.MAILDIR!, 'new');
  let found = '';
  await expect
    .poll(() => {
      const files = fs.existsSync(inbox) ? fs.readdirSync(inbox) : [];
      found = files.map((file) => fs.readFileSync(path.join(inbox, file), 'utf8')).find((text) => text.includes(to)) ?? '';
      return found !== '';
    }, { timeout: 20_000 })
    .toBe(true);
  // Quoted-printable soft breaks and escapes.
  return found.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
}

test('an admin makes a queue for callbacks and places kept', async ({ page: admin }) => {
  const queue = await ownQueue(admin, RHEA, 'Callbacks');
  await queue.getByLabel('Callback retry delay (s)').fill('3');
  await queue.getByLabel('Notify a customer keeping their place at position').fill('1');
  await queue.getByLabel('... or when their wait is under (s)').fill('0');
  // It calls North America and the UK only (no premium-rate numbers).
  await queue.getByLabel('Call only numbers starting with (+44 +1; empty: any)').fill('+1 +44');
  await queue.getByRole('button', { name: 'Create queue' }).click();
  await expect(admin.getByRole('status')).toHaveText('Saved "Callbacks".');
});

test('a callback outlives its closed page, is dialled, tried again after the delay and reached', async ({ browser }) => {
  test.setTimeout(90_000);
  const carla = await (await browser.newContext()).newPage();
  await asking(carla, 'Carla Callback', 'Call me back');
  await carla.getByLabel('Phone number (with country code)').fill('+1 415 555 0177');
  await expect(carla.getByLabel('When should we call?')).toHaveValue('');
  await carla.getByRole('button', { name: 'Talk to a representative' }).click();
  await expect(carla.getByTestId('callback-phone')).toHaveText('+14155550177');
  await expect(carla.getByTestId('position')).toHaveText('1');
  await expect(carla.getByRole('button', { name: 'Cancel my callback' })).toBeVisible();
  await carla.context().close();

  // A stranger who knows Carla's number is told only that a callback to it
  // is waiting; a number the queue does not call is refused.
  const stranger = await (await browser.newContext()).newPage();
  await asking(stranger, 'Mallory Stranger', 'Call me back');
  await stranger.getByLabel('Phone number (with country code)').fill('+1 415 555 0177');
  await stranger.getByRole('button', { name: 'Talk to a representative' }).click();
  await expect(stranger.getByRole('alert')).toHaveText('A callback to this number is already waiting.');
  await stranger.getByLabel('Phone number (with country code)').fill('+882 1234 5678');
  await stranger.getByRole('button', { name: 'Talk to a representative' }).click();
  await expect(stranger.getByRole('alert')).toHaveText('For Callbacks, we call back only numbers starting with +1 or +44.');
  await expect(stranger.getByTestId('position')).toHaveCount(0);
  await stranger.context().close();

  const rhea = await desk(browser);
  const offer = rhea.getByTestId('offer').filter({ hasText: 'Carla Callback' });
  await expect(offer.getByTestId('callback-number')).toContainText('+14155550177');
  await offer.getByRole('button', { name: 'Accept' }).click();
  const card = rhea.getByTestId('my-customer').filter({ hasText: 'Carla Callback' });
  await expect(card.getByTestId('dial')).toHaveAttribute('href', 'tel:+14155550177');
  await expect(card.getByTestId('callback-attempts')).toContainText('first call');
  await card.getByRole('button', { name: 'No answer' }).click();
  await expect(card).toHaveCount(0);

  // Back after the queue's delay (3 s here), with the first call counted.
  const again = rhea.getByTestId('offer').filter({ hasText: 'Carla Callback' });
  await expect(again).toBeVisible({ timeout: 20_000 });
  await expect(again.getByTestId('callback-number')).toContainText('1 made before');
  await again.getByRole('button', { name: 'Accept' }).click();
  await expect(card.getByTestId('callback-attempts')).toContainText('call 2 of 3');
  await card.getByRole('button', { name: 'Reached' }).click();
  await expect(card.getByTestId('callback-reached')).toBeVisible();
  await card.getByRole('button', { name: 'End', exact: true }).click();
  await card.getByRole('button', { name: 'Done' }).click();
  await expect(rhea.getByTestId('recent').filter({ hasText: 'Resolved' }).filter({ hasText: 'Carla Callback' }).getByTestId('recent-calls')).toHaveText('2 calls');
  await rhea.getByRole('button', { name: 'Log out of queues' }).click();
  await rhea.context().close();
});

test('keeping my place: told on the page and by email near the front, and the link brings me back to be served next', async ({
  browser,
}) => {
  test.setTimeout(120_000);
  // Rhea is busy with Fay, so a line builds: Gil, then Nora.
  const rhea = await desk(browser);
  const fay = await customer(browser, 'Fay First', 'Audio only');
  await rhea.getByTestId('offer').filter({ hasText: 'Fay First' }).getByRole('button', { name: 'Accept' }).click();
  const fayCard = rhea.getByTestId('my-customer').filter({ hasText: 'Fay First' });
  await expect(fayCard).toBeVisible();
  const gil = await customer(browser, 'Gil Ahead', 'Audio only');
  await expect(gil.getByTestId('position')).toHaveText('1');

  const noraContext = await browser.newContext({ permissions: ['notifications'] });
  await noraContext.addInitScript(COUNT_NOTIFICATIONS);
  const nora = await noraContext.newPage();
  await asking(nora, 'Nora Notify', 'Audio only');
  await nora.getByRole('button', { name: 'Talk to a representative' }).click();
  await expect(nora.getByTestId('position')).toHaveText('2');
  await nora.getByRole('button', { name: 'Keep my place and notify me' }).click();
  const keep = nora.getByTestId('switch-keep');
  await keep.getByLabel('Email me too (optional)').fill('nora@example.com');
  await keep.getByRole('button', { name: 'Keep my place' }).click();
  await expect(nora.getByTestId('keeping-place')).toContainText('by email to nora@example.com');
  await expect(nora.getByTestId('position')).toHaveText('2');
  expect(await nora.evaluate(() => (window as any).notes.length)).toBe(0);

  // Nora's page goes to the background; Gil leaves, and Nora is next.
  const elsewhere = await noraContext.newPage();
  await elsewhere.goto('about:blank');
  await elsewhere.bringToFront();
  await gil.getByRole('button', { name: 'Leave queue' }).click();
  await expect(nora.getByTestId('turn-near')).toBeVisible();
  await expect.poll(() => nora.evaluate(() => (window as any).notes.length)).toBe(1);
  await expect(nora).toHaveTitle(/^Your turn is near/);
  const mail = await mailTo('nora@example.com');
  // It names the company (the sender's name) and the link: nothing the
  // customer typed.
  expect(mail).toContain('Subject: Switchboard tests: your turn is near');
  expect(mail).not.toContain('Nora');
  const link = mail.match(/http:\/\/127\.0\.0\.1:\d+\/back\?token=[0-9a-f]{64}/)?.[0];
  expect(link, mail).toBeTruthy();

  // She closes the page: her place is kept. The link brings her back.
  await noraContext.close();
  const back = await (await browser.newContext()).newPage();
  await back.goto(link!);
  // Opening the link changes nothing until she says so.
  await expect(back.getByRole('heading', { name: 'Return to your place in line?' })).toBeVisible();
  await back.getByRole('button', { name: 'Return to my place' }).click();
  await expect(back).toHaveURL(/\/$/);
  await expect(back.getByTestId('position')).toHaveText('1');
  await expect(back.getByTestId('keeping-place')).toBeVisible();
  const hal = await customer(browser, 'Hal Behind', 'Audio only');
  await expect(hal.getByTestId('position')).toHaveText('2');

  // Rhea is free: Nora is offered next, before Hal.
  await fayCard.getByRole('button', { name: 'End', exact: true }).click();
  await fayCard.getByRole('button', { name: 'Done' }).click();
  await expect(rhea.getByTestId('offer').filter({ hasText: 'Nora Notify' })).toBeVisible();
  await expect(rhea.getByTestId('offer').filter({ hasText: 'Hal Behind' })).toHaveCount(0);
  await rhea.getByTestId('offer').filter({ hasText: 'Nora Notify' }).getByRole('button', { name: 'Accept' }).click();
  const noraCard = rhea.getByTestId('my-customer').filter({ hasText: 'Nora Notify' });
  await noraCard.getByRole('button', { name: 'End', exact: true }).click();
  await noraCard.getByRole('button', { name: 'Done' }).click();
  await hal.getByRole('button', { name: 'Leave queue' }).click();
  await rhea.getByRole('button', { name: 'Log out of queues' }).click();
  for (const page of [rhea, fay, gil, back, hal]) await page.context().close();
});
