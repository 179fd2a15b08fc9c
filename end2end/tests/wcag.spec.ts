// What axe cannot see (WCAG 2.2 AA, README "Accessibility"): the whole
// customer path and the whole desk path with the keyboard only, the focus
// seen and moved to new content, what a screen reader announces, the
// desk's single-key shortcuts turned off or given a modifier, reflow on a
// phone and at 200% zoom, and less motion for whoever asks for it.
import { test, expect, Browser, Locator, Page } from '@playwright/test';
import { addRepresentative, open, ownQueue, scrollsSideways, tabTo } from './helpers';

test.describe.configure({ mode: 'serial' });

const KAY = { email: 'kay@example.com', name: 'Kay Keys', password: 'kay has a long password' };

test.beforeAll(() => addRepresentative(KAY));

/** Presses `key` while the focus is on `target`, reached with Tab. */
async function press(page: Page, target: Locator, key = 'Enter', back = false) {
  await tabTo(page, target, { back });
  await page.keyboard.press(key);
}

/** Types into a field reached with Tab. */
async function typeInto(page: Page, field: Locator, text: string) {
  await tabTo(page, field);
  await page.keyboard.type(text);
}

/** Kay's desk, signed in with the keyboard. */
async function desk(browser: Browser, options = {}): Promise<Page> {
  const page = await (await browser.newContext(options)).newPage();
  await open(page, '/login');
  await typeInto(page, page.getByLabel('Email'), KAY.email);
  await typeInto(page, page.getByLabel('Password', { exact: true }), KAY.password);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/rep$/);
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  return page;
}

/** A customer fills the form for the "Keyboard" queue by keyboard and asks. */
async function ask(page: Page, name: string, channel: 'Video' | 'Chat') {
  await typeInto(page, page.getByLabel('Your name'), name);
  await typeInto(page, page.getByLabel('What do you need help with?'), `${name} cannot find the invoice`);
  const topic = page.getByLabel('Topic');
  await tabTo(page, topic);
  // Typing a name chooses it in a closed list.
  await page.keyboard.type('Keyboard');
  await expect(topic.locator('option:checked')).toHaveText('Keyboard');
  // The channels are one group: Tab reaches the chosen one, arrows move.
  await tabTo(page, page.getByRole('radio', { checked: true }));
  for (let step = 0; step < 4 && !(await page.getByLabel(channel, { exact: true }).isChecked()); step++) {
    await page.keyboard.press('ArrowRight');
  }
  await expect(page.getByLabel(channel, { exact: true })).toBeChecked();
  await press(page, page.getByRole('button', { name: 'Talk to a representative' }));
  await expect(page.getByTestId('position')).toBeVisible();
}

test('an admin makes a queue for the keyboard', async ({ page: admin }) => {
  const queue = await ownQueue(admin, KAY, 'Keyboard');
  await queue.getByRole('button', { name: 'Create queue' }).click();
  await expect(admin.getByRole('status')).toHaveText('Saved "Keyboard".');
});

test('a customer and a representative go the whole way with the keyboard only, told what changes', async ({ browser }) => {
  test.setTimeout(120_000);
  const kay = await desk(browser);
  const customer = await (await browser.newContext()).newPage();
  await open(customer, '/');
  await ask(customer, 'Kim Keyboard', 'Video');
  // Before the call: the chat beside it is said.
  const said = customer.getByTestId('announcement');
  await expect(said).toHaveAttribute('role', 'status');
  await expect(said).toHaveText(/^You are number 1 in line\. Estimated wait: .+\.$/);
  await expect(customer.locator('h1')).toHaveText("You're in line");

  // Switching channel keeps the place: a callback, then the chat.
  await press(customer, customer.getByRole('button', { name: 'Call me back instead' }));
  await typeInto(customer, customer.getByTestId('switch-callback').getByLabel('Phone number (with country code)'), '+44 20 7946 0958');
  await press(customer, customer.getByRole('button', { name: 'Call me back', exact: true }));
  await expect(customer.getByTestId('callback-phone')).toHaveText('+442079460958');
  await expect(said).toHaveText(/^We will call you back\. You are number 1 in line\./);
  await press(customer, customer.getByRole('button', { name: 'Talk by chat instead' }));
  await expect(customer.getByTestId('callback')).toBeHidden();
  await expect(said).toHaveText(/^You are number 1 in line\./);

  // Kay goes Ready and takes the offer with A.
  await press(kay, kay.getByRole('button', { name: 'Ready', exact: true }));
  await expect(kay.getByTestId('agent-state')).toHaveText('Ready');
  await expect(kay.getByTestId('offer')).toContainText('Kim Keyboard');
  await kay.keyboard.press('a');
  const card = kay.getByTestId('my-customer').filter({ hasText: 'Kim Keyboard' });
  await expect(card.getByTestId('customer-status')).toHaveText('talking');

  // Matched: the customer's focus moves to the new heading, and a screen
  // reader hears who joined.
  await expect(customer.getByTestId('matched')).toHaveText("You're talking with Kay");
  await expect(customer.getByTestId('matched')).toBeFocused();
  await expect(said).toHaveText("A representative is joining: you're talking with Kay.");

  // Chat both ways; the chat is a log (each new message read out).
  await typeInto(customer, customer.getByRole('textbox', { name: 'Message', exact: true }), 'Where is my invoice?');
  await customer.keyboard.press('Enter');
  await expect(card.getByTestId('chat')).toContainText('Where is my invoice?');
  await typeInto(kay, card.getByRole('textbox', { name: 'Message', exact: true }), 'Let me look.');
  await kay.keyboard.press('Enter');
  const log = customer.getByRole('log', { name: 'Messages' });
  await expect(log).toContainText('Let me look.');

  // Hold and resume, announced.
  await press(kay, card.getByRole('button', { name: 'Hold' }), 'Enter', true);
  await expect(said).toHaveText('You are on hold.');
  // The same button, still in focus, resumes.
  await expect(card.getByRole('button', { name: 'Resume' })).toBeFocused();
  await kay.keyboard.press('Space');
  await expect(said).toHaveText("A representative is joining: you're talking with Kay.");

  // Transfer to the same queue: the customer is back at the front; Kay
  // wraps up, is offered them again and takes them with A.
  await press(kay, card.getByTestId('transfer-open'));
  const target = card.getByTestId('transfer-target');
  await tabTo(kay, target);
  await kay.keyboard.type('Keyboard');
  await expect(target.locator('option:checked')).toHaveText(/^Keyboard/);
  await press(kay, card.getByTestId('transfer-send'));
  await expect(customer.getByTestId('transferred')).toBeVisible();
  await expect(customer.locator('h1')).toBeFocused();
  await expect(card.getByTestId('customer-status')).toHaveText('wrap-up');
  await tabTo(kay, card.getByLabel('Disposition'));
  await kay.keyboard.press('ArrowDown');
  await press(kay, card.getByRole('button', { name: 'Done' }));
  await expect(kay.getByTestId('offer')).toContainText('Kim Keyboard');
  await kay.keyboard.press('a');
  await expect(customer.getByTestId('matched')).toBeFocused();

  // Kay ends; the customer's focus moves to "ended", and they rate.
  await expect(card.getByTestId('customer-status')).toHaveText('talking');
  await press(kay, card.getByRole('button', { name: 'End', exact: true }), 'Enter', true);
  await expect(said).toHaveText('Your conversation has ended.');
  await expect(customer.getByTestId('ended')).toBeFocused();
  await tabTo(customer, customer.getByLabel('1 star', { exact: true }));
  for (let step = 0; step < 4; step++) await customer.keyboard.press('ArrowRight');
  await expect(customer.getByLabel('5 stars')).toBeChecked();
  await typeInto(customer, customer.getByLabel('Comment (optional)'), 'Quick and kind.');
  await press(customer, customer.getByRole('button', { name: 'Send rating' }));
  await expect(customer.getByTestId('rated')).toBeVisible();
  await press(kay, card.getByRole('button', { name: 'Done' }));
  await expect(kay.getByTestId('recent-rating').first()).toContainText('Rated 5/5');

  // Asking again, then leaving the line.
  await press(customer, customer.getByRole('button', { name: 'Ask for help again' }));
  await expect(customer.getByLabel('Your name')).toBeVisible();
  await expect(customer.locator('body[data-hydrated="true"]')).toBeAttached();
  await press(kay, kay.getByRole('button', { name: 'Log out of queues' }), 'Enter', true);
  await expect(kay.getByTestId('agent-state')).toHaveText('Logged out');
  await kay.context().close();
  await customer.context().close();
});

test('single-key shortcuts can be turned off or given a modifier; offers pulse unless motion is reduced', async ({ browser }) => {
  const kay = await desk(browser);
  await press(kay, kay.getByRole('button', { name: 'Ready', exact: true }));
  const kit = await (await browser.newContext()).newPage();
  await open(kit, '/');
  await ask(kit, 'Kit Shortcut', 'Chat');
  const offer = kay.getByTestId('offer');
  await expect(offer).toContainText('Kit Shortcut');
  await expect(offer.getByRole('button', { name: 'Accept' })).toHaveAttribute('aria-keyshortcuts', 'A');
  // The offer pulses with the ring, and stops for whoever asks for less motion.
  expect(await offer.evaluate((element) => element.getAnimations().length)).toBeGreaterThan(0);
  await kay.emulateMedia({ reducedMotion: 'reduce' });
  expect(await offer.evaluate((element) => element.getAnimations().length)).toBe(0);

  // Off: A does nothing. With Alt: A still does nothing, Alt+D declines.
  const keys = kay.getByTestId('answer-keys');
  await tabTo(kay, keys);
  await kay.keyboard.type('Off');
  await expect(keys.locator('option:checked')).toHaveText('Off');
  await expect(kay.getByTestId('answer-keys-hint')).toBeHidden();
  await expect(offer.getByRole('button', { name: 'Accept' })).not.toHaveAttribute('aria-keyshortcuts', /./);
  // Off the list (a letter typed in it would choose an option).
  await kay.keyboard.press('Tab');
  await kay.keyboard.press('a');
  await tabTo(kay, keys, { back: true });
  await kay.keyboard.type('Alt');
  await expect(keys.locator('option:checked')).toHaveText('Alt+A and Alt+D');
  await kay.keyboard.press('Tab');
  await kay.keyboard.press('a');
  await kay.keyboard.press('Alt+D');
  // Declined, never accepted: Kit waits on (for someone else).
  await expect(offer).toHaveCount(0);
  await expect(kay.getByTestId('my-customer')).toHaveCount(0);
  await expect(kit.getByTestId('position')).toHaveText('1');

  // The choice outlives a reload; Alt+A takes the next customer.
  await kay.reload();
  await expect(kay.locator('body[data-hydrated="true"]')).toBeAttached();
  await expect(keys.locator('option:checked')).toHaveText('Alt+A and Alt+D');
  await expect(kay.getByTestId('agent-state')).toHaveText('Ready');
  const kat = await (await browser.newContext()).newPage();
  await open(kat, '/');
  await ask(kat, 'Kat Modifier', 'Chat');
  await expect(offer).toContainText('Kat Modifier');
  await expect(offer.getByRole('button', { name: 'Accept' })).toHaveAttribute('aria-keyshortcuts', 'Alt+A');
  await kay.keyboard.press('Alt+A');
  await expect(kat.getByTestId('matched')).toHaveText("You're talking with Kay");

  // At 200% zoom on a 1280×800 screen (640×400 CSS px), the desk with a
  // conversation open reflows: nothing scrolls sideways.
  await kay.setViewportSize({ width: 640, height: 400 });
  expect(await scrollsSideways(kay), 'the desk at 200% zoom').toBe(false);
  // The customer's side on a phone 320 CSS px wide: the chat reflows too.
  await kat.setViewportSize({ width: 320, height: 640 });
  expect(await scrollsSideways(kat), 'the chat on a phone').toBe(false);

  const card = kay.getByTestId('my-customer');
  await card.getByRole('button', { name: 'End', exact: true }).click();
  await card.getByRole('button', { name: 'Done' }).click();
  await kay.getByRole('button', { name: 'Log out of queues' }).click();
  await kit.getByRole('button', { name: 'Leave queue' }).click();
  await expect(kit.getByLabel('Your name')).toBeVisible();
  for (const page of [kay, kit, kat]) await page.context().close();
});

test('the customer side reflows on a phone 320 CSS px wide, and positions are announced only when they change', async ({
  browser,
}) => {
  const phone = { viewport: { width: 320, height: 640 } };
  const kay = await desk(browser);
  const first = await (await browser.newContext(phone)).newPage();
  await open(first, '/');
  expect(await scrollsSideways(first), 'the form on a phone').toBe(false);
  await ask(first, 'Pia Phone', 'Chat');
  const second = await (await browser.newContext(phone)).newPage();
  await open(second, '/');
  await ask(second, 'Pete Phone', 'Chat');
  expect(await scrollsSideways(second), 'the line on a phone').toBe(false);
  // Every text the live region takes, in order.
  await second.getByTestId('announcement').evaluate((region) => {
    const heard: string[] = ((window as any).heard = [region.textContent ?? '']);
    new MutationObserver(() => heard.push(region.textContent ?? '')).observe(region, { childList: true, characterData: true, subtree: true });
  });
  await expect(second.getByTestId('position')).toHaveText('2');
  // The first leaves: the second moves up, said once.
  await press(first, first.getByRole('button', { name: 'Leave queue' }));
  await expect(second.getByTestId('position')).toHaveText('1');
  await press(kay, kay.getByRole('button', { name: 'Ready', exact: true }));
  await expect(kay.getByTestId('offer')).toContainText('Pete Phone');
  await kay.keyboard.press('a');
  await expect(second.getByTestId('matched')).toBeVisible();
  const heard: string[] = await second.evaluate(() => (window as any).heard);
  const texts = heard.filter((text, at) => text !== heard[at - 1]);
  expect(texts.length, `the region changed only when the text did: ${heard.join(' | ')}`).toBe(heard.length);
  expect(texts[0]).toMatch(/^You are number 2 in line\./);
  expect(texts.some((text) => /^You are number 1 in line\./.test(text))).toBe(true);
  expect(texts[texts.length - 1]).toBe("A representative is joining: you're talking with Kay.");
  expect(texts.every((text) => /^(You are number [12] in line\. Estimated wait: .+\.|A representative is joining: .+)$/.test(text))).toBe(true);

  await kay.getByTestId('my-customer').getByRole('button', { name: 'End', exact: true }).click();
  await kay.getByTestId('my-customer').getByRole('button', { name: 'Done' }).click();
  await kay.getByRole('button', { name: 'Log out of queues' }).click();
  for (const page of [kay, first, second]) await page.context().close();
});
