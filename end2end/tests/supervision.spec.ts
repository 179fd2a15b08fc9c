// Supervision (SPEC §8): an admin makes Sue the supervisor of a queue; her
// wallboard follows the queue and its representative live, and she joins
// Walt's conversations as monitor, whisper and barge-in (customer,
// representative and supervisor in separate browser contexts, media proven
// per peer connection with getStats(); the customer's page holds a
// connection to a supervisor only once she barges in).
import { test, expect, Browser, Page } from '@playwright/test';
import { addRepresentative, countConnections, expectAccessible, flowsFrom, fromPeer, me, open, openConnections, ownQueue, signIn, sleep } from './helpers';

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
  const floor = await ownQueue(admin, WALT, 'Floor');
  await floor.getByLabel(`${SUE.name} supervises this queue`).check();
  await floor.getByLabel('Longest wait amber after (s)').fill('1');
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
  // Past a second the longest wait turns amber, and says so in words too.
  await expect(queue.getByTestId('wall-longest')).toHaveClass(/amber/);
  await expect(queue.getByTestId('wall-longest')).toContainText('warning');

  // Walt takes her and holds the call: the wallboard shows it.
  await desk.getByRole('button', { name: 'Ready', exact: true }).click();
  await desk.getByTestId('offer').filter({ hasText: 'Wanda Waiting' }).getByRole('button', { name: 'Accept' }).click();
  const call = walt.getByTestId('wall-customer').filter({ hasText: 'Wanda Waiting' });
  await expect(call.getByTestId('wall-customer-status')).toHaveText('talking');
  await expect(queue.getByTestId('wall-waiting')).toHaveText('0');
  await desk.getByTestId('my-customer').getByRole('button', { name: 'Hold' }).click();
  await expect(call.getByTestId('wall-customer-status')).toHaveText('on hold');
  await expectAccessible(sue, 'the wallboard');

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

/** A customer asking Floor for help on `channel`. */
async function floorCustomer(browser: Browser, name: string, channel: 'Video' | 'Chat'): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await countConnections(page);
  await open(page, '/');
  await page.getByLabel('Topic').selectOption({ label: 'Floor' });
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('What do you need help with?').fill(`${name} would like a word with a supervisor`);
  await page.getByLabel(channel, { exact: true }).check();
  await page.getByRole('button', { name: 'Talk to a representative' }).click();
  await expect(page.getByTestId('customer-status')).toBeVisible();
  return page;
}

/** Walt's desk, Ready; and Sue's wallboard. */
async function deskAndBoard(browser: Browser): Promise<{ desk: Page; sue: Page }> {
  const desk = await (await browser.newContext()).newPage();
  await signIn(desk, WALT.email, WALT.password);
  await expect(desk.getByTestId('agent-state')).toHaveText(/Not ready/);
  await desk.getByRole('button', { name: 'Ready', exact: true }).click();
  await expect(desk.getByTestId('agent-state')).toHaveText('Ready');
  const sue = await (await browser.newContext()).newPage();
  await signIn(sue, SUE.email, SUE.password, '/supervisor');
  await expect(sue.getByRole('heading', { name: 'Wallboard' })).toBeVisible();
  return { desk, sue };
}

/** Walt takes the customer's offer; the help session's id. */
async function take(desk: Page, name: string): Promise<string> {
  await desk.getByTestId('offer').filter({ hasText: name }).getByRole('button', { name: 'Accept' }).click();
  const card = desk.getByTestId('my-customer').filter({ hasText: name });
  await expect(card).toBeVisible();
  return (await card.getAttribute('data-session'))!;
}

/** Sue joins the customer's conversation from the wallboard. */
async function join(sue: Page, name: string, mode: 'monitor' | 'whisper' | 'barge') {
  const row = sue.getByTestId('wall-customer').filter({ hasText: name });
  await row.getByTestId(`join-${mode}`).click();
  const panel = sue.getByTestId('supervising').filter({ hasText: name });
  await expect(panel.getByTestId(`mode-${mode}`)).toHaveAttribute('aria-pressed', 'true');
  return panel;
}

/** Asserts that nothing at all has arrived from `party` on this page, now
 * and a moment later. */
async function nothingFrom(page: Page, party: string, session?: string) {
  for (let i = 0; i < 2; i++) {
    expect(await fromPeer(page, party, session)).toEqual({ audio: 0, video: 0 });
    await sleep(1000);
  }
}

/** Waits until what `via` forwards stands still (audio and video). */
async function nothingMoreForwarded(page: Page, via: string, session: string) {
  await expect
    .poll(async () => {
      const a = await fromPeer(page, via, session, true);
      await sleep(1200);
      const b = await fromPeer(page, via, session, true);
      return a.audio === b.audio && a.video === b.video;
    }, { timeout: 20_000 })
    .toBe(true);
}

/** Waits until audio from `party` rises over a second (a whisper is voice only). */
async function voiceFrom(page: Page, party: string, session?: string) {
  await expect
    .poll(async () => {
      const a = await fromPeer(page, party, session);
      await sleep(1000);
      return (await fromPeer(page, party, session)).audio > a.audio;
    }, { timeout: 30_000 })
    .toBe(true);
}

/** Remembers the page's peer connections in a call ... */
async function remember(page: Page, session: string) {
  await page.evaluate((id) => {
    const call = (window as any).switchboardCalls.get(id);
    (window as any).remembered = new Map([...call.peers].map(([party, peer]: [string, any]) => [party, peer.pc]));
  }, session);
}

/** ... to tell whether they are all still open and the same (a mode switch
 * does not reconnect). */
async function unchanged(page: Page, session: string): Promise<boolean> {
  return page.evaluate((id) => {
    const call = (window as any).switchboardCalls.get(id);
    const before: Map<string, any> = (window as any).remembered;
    return before.size > 0 && [...before].every(([party, pc]) => pc && call.peers.get(party)?.pc === pc);
  }, session);
}

/** Waits until the customer's page holds connections to exactly `parties`,
 * and no other connection is open on it. */
async function connectedTo(page: Page, parties: string[]) {
  await expect.poll(() => openConnections(page)).toEqual({ open: parties.length, parties: [...parties].sort() });
}

test('a supervisor monitors, whispers to and barges in on a video call, switching without reconnecting', async ({ browser }) => {
  test.setTimeout(150_000);
  const { desk, sue } = await deskAndBoard(browser);
  const vera = await floorCustomer(browser, 'Vera Video', 'Video');
  const session = await take(desk, 'Vera Video');
  const card = desk.getByTestId('my-customer').filter({ hasText: 'Vera Video' });
  const walt = await me(desk, session);

  // Monitor: Sue receives both, the customer through Walt's page; Vera's
  // page holds no connection to her; Walt receives nothing from her, the
  // desk says so and the customer is not told.
  await connectedTo(vera, [walt]);
  const panel = await join(sue, 'Vera Video', 'monitor');
  const sueId = await me(sue, session);
  await flowsFrom(sue, walt, session, true);
  await flowsFrom(sue, walt, session);
  await nothingFrom(desk, sueId, session);
  await connectedTo(vera, [walt]);
  await expect(card.getByTestId('supervised')).toHaveText('Supervisor is listening');
  await expect(vera.getByTestId('supervisor-joined')).toHaveCount(0);
  await expect(panel.getByTestId('chat-silent')).toBeVisible();
  await expectAccessible(sue, 'the wallboard, monitoring a video call');
  await remember(sue, session);

  // Whisper: Walt hears Sue, Vera does not; Sue's message reaches the desk
  // only, and stays away from Vera after a reload.
  await panel.getByTestId('mode-whisper').click();
  await expect(panel.getByTestId('mode-whisper')).toHaveAttribute('aria-pressed', 'true');
  await voiceFrom(desk, sueId, session);
  await connectedTo(vera, [walt]);
  await flowsFrom(sue, walt, session, true);
  expect(await unchanged(sue, session), 'monitor to whisper on the same connections').toBe(true);
  await expect(card.getByTestId('supervised')).toContainText('Sue Supervisor (supervisor) is coaching you');
  await panel.getByPlaceholder('Write a message').fill('Offer her the refund.');
  await panel.getByRole('button', { name: 'Send' }).click();
  await expect(card.getByTestId('chat-message').filter({ hasText: 'Offer her the refund.' })).toContainText("whisper: the customer can't see it");
  await card.getByPlaceholder('Write a message').fill('We can refund you today.');
  await card.getByRole('button', { name: 'Send' }).click();
  await expect(vera.getByTestId('chat')).toContainText('We can refund you today.');
  await expect(vera.getByTestId('chat')).not.toContainText('Offer her the refund.');
  await vera.reload();
  await expect(vera.getByTestId('chat')).toContainText('We can refund you today.');
  await expect(vera.getByTestId('chat')).not.toContainText('Offer her the refund.');
  // (The reloaded page calls anew: Walt forwards its new connection's media.)
  await connectedTo(vera, [walt]);
  await flowsFrom(sue, walt, session, true);
  await remember(sue, session);

  // Barge: Vera's page connects to Sue, every pair flows both ways, Walt
  // stops forwarding and Vera sees who joined.
  await panel.getByTestId('mode-barge').click();
  await expect(vera.getByTestId('supervisor-joined')).toHaveText('A supervisor has joined: Sue');
  await expect(card.getByTestId('supervised')).toContainText('Sue Supervisor (supervisor) has joined');
  await connectedTo(vera, [sueId, walt]);
  await flowsFrom(vera, sueId);
  await flowsFrom(desk, sueId, session);
  await flowsFrom(sue, 'customer', session);
  await flowsFrom(sue, walt, session);
  await nothingMoreForwarded(sue, walt, session);
  expect(await unchanged(sue, session), 'whisper to barge on the same connection with Walt').toBe(true);

  // Back to monitoring: Vera's connection to Sue closes.
  await panel.getByTestId('mode-monitor').click();
  await expect(panel.getByTestId('mode-monitor')).toHaveAttribute('aria-pressed', 'true');
  await connectedTo(vera, [walt]);
  await flowsFrom(sue, walt, session, true);

  // Walt ends: Sue's connections close within 2 s.
  await card.getByRole('button', { name: 'End', exact: true }).click();
  await expect
    .poll(() => sue.evaluate((id) => !(window as any).switchboardCalls?.get(id), session), { timeout: 2_000, intervals: [100] })
    .toBe(true);
  await expect(sue.getByTestId('supervising')).toHaveCount(0);
  await card.getByRole('button', { name: 'Done' }).click();
  await desk.getByRole('button', { name: 'Log out of queues' }).click();
  for (const page of [vera, sue, desk]) await page.context().close();
});

test('on a chat: a supervisor monitors, whispers and barges in, then takes the customer over when the representative leaves', async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const { desk, sue } = await deskAndBoard(browser);
  const cara = await floorCustomer(browser, 'Cara Chat', 'Chat');
  await take(desk, 'Cara Chat');
  const card = desk.getByTestId('my-customer').filter({ hasText: 'Cara Chat' });

  // Monitoring a chat: Sue reads it live and cannot write.
  const panel = await join(sue, 'Cara Chat', 'monitor');
  await expect(panel.getByTestId('chat-silent')).toBeVisible();
  await expect(panel.getByPlaceholder('Write a message')).toBeHidden();
  await cara.getByPlaceholder('Write a message').fill('My parcel never came.');
  await cara.getByRole('button', { name: 'Send' }).click();
  await expect(panel.getByTestId('chat')).toContainText('My parcel never came.');

  // Whispering: to Walt only.
  await panel.getByTestId('mode-whisper').click();
  await panel.getByPlaceholder('Write a message').fill('Check the courier first.');
  await panel.getByRole('button', { name: 'Send' }).click();
  await expect(card.getByTestId('chat')).toContainText('Check the courier first.');
  await card.getByPlaceholder('Write a message').fill('Let me check with the courier.');
  await card.getByRole('button', { name: 'Send' }).click();
  await expect(cara.getByTestId('chat')).toContainText('Let me check with the courier.');
  await expect(cara.getByTestId('chat')).not.toContainText('Check the courier first.');

  // Barging in: Cara sees Sue and her messages.
  await panel.getByTestId('mode-barge').click();
  await expect(cara.getByTestId('supervisor-joined')).toHaveText('A supervisor has joined: Sue');
  await panel.getByPlaceholder('Write a message').fill('I am the supervisor; I will sort this out.');
  await panel.getByRole('button', { name: 'Send' }).click();
  await expect(cara.getByTestId('chat-message').filter({ hasText: 'I will sort this out' }).locator('.meta')).toContainText(
    'Sue · Supervisor',
  );

  // Walt leaves: Sue is asked, takes Cara over, and goes on at her desk.
  await card.getByRole('button', { name: 'Leave' }).click();
  await expect(card.getByTestId('customer-status')).toHaveText('wrap-up');
  await panel.getByRole('button', { name: 'Take the customer over' }).click();
  await expect(sue).toHaveURL(/\/rep$/);
  const hers = sue.getByTestId('my-customer').filter({ hasText: 'Cara Chat' });
  await expect(hers.getByTestId('chat')).toContainText('I will sort this out');
  await expect(cara.getByTestId('matched')).toHaveText("You're talking with Sue");
  await hers.getByRole('button', { name: 'End', exact: true }).click();
  await hers.getByRole('button', { name: 'Done' }).click();
  await card.getByRole('button', { name: 'Done' }).click();
  await desk.getByRole('button', { name: 'Log out of queues' }).click();
  for (const page of [cara, sue, desk]) await page.context().close();
});
