// The conversation (SPEC §6), customer and representative in separate
// browser contexts with Chromium's fake camera and microphone. Media is
// proven with getStats(): inbound frames decoded and bytes rising.
import { test, expect, Browser, Locator, Page } from '@playwright/test';
import { addRepresentative, expectAccessible, flowsFrom, me, noneFrom, open, signIn, sleep } from './helpers';

test.describe.configure({ mode: 'serial' });

const REP = { email: 'cora@example.com', name: 'Cora Call', password: 'cora has a long password' };
/** A second representative, for transfers; logged out until the last test. */
const TESS = { email: 'tess@example.com', name: 'Tess Transfer', password: 'tess has a long password' };

test.beforeAll(() => {
  addRepresentative(REP);
  addRepresentative(TESS);
});

type Inbound = { videoFrames: number; videoBytes: number; audioBytes: number; videoReports: number };

/** Inbound media of a call on this page (the customer page's only call, or
 * the desk's call with one customer). */
async function inbound(page: Page, session?: string): Promise<Inbound> {
  return page.evaluate(async (session) => {
    const calls: Map<string, any> = (window as any).switchboardCalls ?? new Map();
    const call = session ? calls.get(session) : [...calls.values()][0];
    const totals = { videoFrames: 0, videoBytes: 0, audioBytes: 0, videoReports: 0 };
    if (!call?.pc) return totals;
    (await call.pc.getStats()).forEach((r: any) => {
      if (r.type !== 'inbound-rtp') return;
      if (r.kind === 'video') {
        totals.videoReports += 1;
        totals.videoFrames += r.framesDecoded ?? 0;
        totals.videoBytes += r.bytesReceived ?? 0;
      } else if (r.kind === 'audio') {
        totals.audioBytes += r.bytesReceived ?? 0;
      }
    });
    return totals;
  }, session);
}

/** Tess's desk, in a browser context of its own: signed in, not ready. */
async function secondDesk(browser: Browser): Promise<Page> {
  const tess = await (await browser.newContext()).newPage();
  await signIn(tess, TESS.email, TESS.password);
  await expect(tess.getByTestId('agent-state')).toHaveText(/Not ready/);
  return tess;
}

/** Picks the option naming `name` in a card's chooser. */
async function choose(card: Locator, chooser: string, name: string) {
  const select = card.getByTestId(chooser);
  await select.selectOption((await select.locator('option', { hasText: name }).getAttribute('value'))!);
}

/** How the customer's page names a representative. */
const first = (name: string) => name.split(' ')[0];

/** Opens a conversation from the desk's list; its panel. */
async function openConversation(desk: Page, name: string): Promise<Locator> {
  await desk.getByTestId('conversation-item').filter({ hasText: name }).click();
  const card = desk.getByTestId('my-customer').filter({ hasText: name });
  await expect(card).toBeVisible();
  return card;
}

/** Waits until media rises over a second: audio bytes, and (for video)
 * frames decoded and video bytes. */
async function flows(page: Page, { video, session }: { video: boolean; session?: string }) {
  const deadline = Date.now() + 30_000;
  let last = '';
  for (;;) {
    const a = await inbound(page, session);
    await sleep(1000);
    const b = await inbound(page, session);
    const audio = b.audioBytes > a.audioBytes;
    const frames = b.videoFrames > a.videoFrames && b.videoBytes > a.videoBytes;
    if (audio && (!video || frames)) return b;
    last = JSON.stringify({ a, b });
    if (Date.now() > deadline) throw new Error(`media does not flow: ${last}`);
  }
}

/** Waits until inbound bytes stay still over a second, both kinds. */
async function stops(page: Page, session?: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const a = await inbound(page, session);
    await sleep(1200);
    const b = await inbound(page, session);
    if (b.audioBytes === a.audioBytes && b.videoBytes === a.videoBytes && b.audioBytes > 0) return;
    if (Date.now() > deadline) throw new Error(`media does not stop: ${JSON.stringify({ a, b })}`);
  }
}

/** Makes every RTCPeerConnection of the page relay-only, as behind a
 * strict NAT where only the TURN server can be reached. */
const RELAY_ONLY = `(() => {
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = function (config, ...rest) {
    return new Native({ ...(config ?? {}), iceTransportPolicy: 'relay' }, ...rest);
  };
  window.RTCPeerConnection.prototype = Native.prototype;
})()`;

/** The candidate types of the pair a call's connection nominated. */
async function nominated(page: Page, session?: string): Promise<{ local?: string; remote?: string }> {
  return page.evaluate(async (session) => {
    const calls: Map<string, any> = (window as any).switchboardCalls ?? new Map();
    const call = session ? calls.get(session) : [...calls.values()][0];
    if (!call?.pc) return {};
    const reports = new Map<string, any>();
    (await call.pc.getStats()).forEach((r: any) => reports.set(r.id, r));
    const transport = [...reports.values()].find((r) => r.type === 'transport' && r.selectedCandidatePairId);
    const pair = transport && reports.get(transport.selectedCandidatePairId);
    if (!pair) return {};
    return {
      local: reports.get(pair.localCandidateId)?.candidateType,
      remote: reports.get(pair.remoteCandidateId)?.candidateType,
    };
  }, session);
}

async function customer(
  browser: Browser,
  name: string,
  channel: 'Video' | 'Audio only' | 'Chat',
  initScript?: string,
): Promise<Page> {
  const context = await browser.newContext();
  if (initScript) await context.addInitScript(initScript);
  const page = await context.newPage();
  await open(page, '/');
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('What do you need help with?').fill(`${name} has a question about an invoice`);
  await page.getByLabel(channel, { exact: true }).check();
  await page.getByRole('button', { name: 'Talk to a representative' }).click();
  await expect(page.getByTestId('customer-status')).toBeVisible();
  await expect(page.locator('body[data-hydrated="true"]')).toBeAttached();
  return page;
}

async function accept(desk: Page, name: string): Promise<string> {
  const offer = desk.getByTestId('offer').filter({ hasText: name });
  await offer.getByRole('button', { name: 'Accept' }).click();
  const card = desk.getByTestId('my-customer').filter({ hasText: name });
  await expect(card).toBeVisible();
  return (await card.getAttribute('data-session'))!;
}

async function openDesk(desk: Page) {
  // The desk's live socket is its presence: once its first push arrived, a
  // desk closed by the test before (and handed back past the grace
  // period, or not) can change nothing any more.
  const live = desk.waitForEvent('websocket', (socket) => socket.url().endsWith('/ws/rep'));
  await signIn(desk, REP.email, REP.password);
  await expect(desk).toHaveURL(/\/rep$/);
  await (await live).waitForEvent('framereceived');
  // Still Ready from the test before (a new desk inside the grace period),
  // or made Ready now.
  const state = desk.getByTestId('agent-state');
  await expect(state).toHaveText(/Ready|Not ready/);
  if ((await state.textContent()) !== 'Ready') {
    await desk.getByRole('button', { name: 'Ready', exact: true }).click();
  }
  await expect(state).toHaveText('Ready');
}

test('a video call: media both ways, hold and resume, chat across reloads, end, wrap-up and rating', async ({
  browser,
  page: desk,
}) => {
  // Two browsers with camera streams, reloaded midway: the longest test here.
  test.setTimeout(120_000);
  await openDesk(desk);
  const vera = await customer(browser, 'Vera Video', 'Video');
  const session = await accept(desk, 'Vera Video');
  await expect(vera.getByTestId('matched')).toHaveText(`You're talking with ${first(REP.name)}`);
  // A screen reader hears who joined; the videos say whose they are.
  const said = vera.getByTestId('announcement');
  await expect(said).toHaveText(`A representative is joining: you're talking with ${first(REP.name)}.`);
  await expect(said).toHaveAttribute('role', 'status');
  await expect(vera.getByTestId('remote-media')).toHaveAttribute('aria-label', "Representative's video");
  await expect(vera.getByTestId('self-preview')).toHaveAttribute('aria-label', 'Your camera');

  // Video frames decoded and audio bytes rising on both sides.
  await flows(vera, { video: true });
  await flows(desk, { video: true, session });

  // Hold stops media both ways and tells the customer; resume restarts it.
  const card = desk.getByTestId('my-customer').filter({ hasText: 'Vera Video' });
  await card.getByRole('button', { name: 'Hold' }).click();
  await expect(vera.getByTestId('on-hold')).toBeVisible();
  await expect(said).toHaveText('You are on hold.');
  await expect(card.getByTestId('customer-status')).toHaveText('on hold');
  await expectAccessible(vera, 'a video call, on hold');
  await expectAccessible(desk, 'the desk, a call on hold');
  await stops(vera);
  await stops(desk, session);
  await card.getByRole('button', { name: /Resume/ }).click();
  await expect(vera.getByTestId('on-hold')).toBeHidden();
  await expect(said).toHaveText(`A representative is joining: you're talking with ${first(REP.name)}.`);
  await flows(vera, { video: true });
  await flows(desk, { video: true, session });

  // Chat both ways, with a reply.
  await vera.getByPlaceholder('Write a message').fill('Hello, my invoice shows the wrong amount.');
  await vera.getByRole('button', { name: 'Send' }).click();
  const cardChat = card.getByTestId('chat');
  await expect(cardChat).toContainText('Hello, my invoice shows the wrong amount.');
  await cardChat.getByTestId('chat-message').filter({ hasText: 'wrong amount' }).getByRole('button', { name: 'Reply' }).click();
  await expect(card.getByTestId('replying')).toContainText('Vera Video');
  await card.getByPlaceholder('Write a message').fill('Let me look at it right away.');
  await card.getByRole('button', { name: 'Send' }).click();
  const answer = vera.getByTestId('chat-message').filter({ hasText: 'Let me look at it right away.' });
  // The customer sees the representative by first name, with their role.
  await expect(answer.locator('.meta')).toContainText(`${first(REP.name)} · Representative`);
  await expect(answer.locator('blockquote')).toContainText('Vera Video: Hello, my invoice shows the wrong amount.');
  await expectAccessible(vera, 'a video call with chat messages');
  await expectAccessible(desk, 'the desk, a call with chat messages');

  // A message too long is refused with a clear message, and nothing is sent.
  await vera.getByPlaceholder('Write a message').fill('x'.repeat(2001));
  await vera.getByRole('button', { name: 'Send' }).click();
  await expect(vera.getByText(/at most 2000 characters/)).toBeVisible();
  await expect(vera.getByTestId('chat-message')).toHaveCount(2);

  // Both reload: the history is there, and the call comes back (the
  // representative rejoins their live conversation).
  await vera.reload();
  await desk.reload();
  await expect(vera.getByTestId('chat-message')).toHaveCount(2);
  await expect(vera.getByTestId('chat')).toContainText('Let me look at it right away.');
  const cardAgain = desk.getByTestId('my-customer').filter({ hasText: 'Vera Video' });
  await expect(cardAgain.getByTestId('chat-message')).toHaveCount(2);
  await flows(vera, { video: true });
  await flows(desk, { video: true, session });

  // Camera off and on again, on the representative's side.
  const cameraOn = () =>
    desk.evaluate((id) => (window as any).switchboardCalls.get(id).stream.getVideoTracks()[0].enabled, session);
  // The switch keeps its name and says its state (aria-pressed).
  const camera = cardAgain.getByRole('button', { name: 'Turn camera off' });
  await expect(camera).toHaveAttribute('aria-pressed', 'false');
  await camera.click();
  await expect(camera).toHaveAttribute('aria-pressed', 'true');
  await expect.poll(cameraOn).toBe(false);
  await camera.click();
  await expect(camera).toHaveAttribute('aria-pressed', 'false');
  await expect.poll(cameraOn).toBe(true);

  // The representative ends: the customer's page ends too and asks for a
  // rating; the representative wraps up.
  await cardAgain.getByRole('button', { name: 'End', exact: true }).click();
  await expect(vera.getByTestId('ended')).toBeVisible();
  await vera.getByLabel('4 stars').check();
  await vera.getByLabel('Comment (optional)').fill('Quick and friendly');
  await vera.getByRole('button', { name: 'Send rating' }).click();
  await expect(vera.getByTestId('rated')).toBeVisible();
  await cardAgain.getByLabel('Disposition').selectOption('Resolved');
  await cardAgain.getByLabel('Note').fill('Corrected the invoice amount');
  await cardAgain.getByRole('button', { name: 'Done' }).click();

  // The session record, on the desk.
  const recent = desk.getByTestId('recent').filter({ hasText: 'Vera Video' });
  await expect(recent).toContainText('Resolved');
  await expect(recent).toContainText('Corrected the invoice amount');
  await expect(recent.getByTestId('recent-rating')).toContainText('Rated 4/5');
  await expect(recent.getByTestId('recent-rating')).toContainText('Quick and friendly');
  await vera.context().close();
});

test('an audio-only call carries audio and no video, and the customer can end it', async ({ browser, page: desk }) => {
  await openDesk(desk);
  const alma = await customer(browser, 'Alma Audio', 'Audio only');
  const session = await accept(desk, 'Alma Audio');
  const heard = await flows(alma, { video: false });
  await flows(desk, { video: false, session });
  expect(heard.videoReports).toBe(0);
  expect((await inbound(desk, session)).videoReports).toBe(0);
  // Mute switches the customer's microphone track off, and back on.
  const micOn = () =>
    alma.evaluate(() => [...(window as any).switchboardCalls.values()][0].stream.getAudioTracks()[0].enabled);
  const mute = alma.getByRole('button', { name: 'Mute microphone' });
  await mute.click();
  await expect(mute).toHaveAttribute('aria-pressed', 'true');
  await expect.poll(micOn).toBe(false);
  await mute.click();
  await expect(mute).toHaveAttribute('aria-pressed', 'false');
  await expect.poll(micOn).toBe(true);
  // The customer ends: the desk goes to wrap-up for them.
  const card = desk.getByTestId('my-customer').filter({ hasText: 'Alma Audio' });
  await alma.getByRole('button', { name: 'End conversation' }).click();
  await expect(alma.getByTestId('ended')).toBeVisible();
  await expect(card.getByTestId('customer-status')).toHaveText('wrap-up');
  await card.getByRole('button', { name: 'Done' }).click();
  await expect(card).toBeHidden();
  await alma.context().close();
});

test('switching between two customers holds the first and connects the second', async ({ browser, page: desk }) => {
  await openDesk(desk);
  const first = await customer(browser, 'Fay First', 'Video');
  const one = await accept(desk, 'Fay First');
  await flows(desk, { video: true, session: one });

  // Holding the first frees the live seat: the second is offered.
  await desk.getByTestId('my-customer').filter({ hasText: 'Fay First' }).getByRole('button', { name: 'Hold' }).click();
  const second = await customer(browser, 'Sam Second', 'Video');
  const two = await accept(desk, 'Sam Second');
  await flows(second, { video: true });
  await flows(desk, { video: true, session: two });
  await stops(first);
  await stops(desk, one);

  // Switch back to the first: the second is held, the first flows.
  await (await openConversation(desk, 'Fay First')).getByRole('button', { name: /Resume/ }).click();
  await expect(second.getByTestId('on-hold')).toBeVisible();
  await expect(first.getByTestId('on-hold')).toBeHidden();
  await flows(first, { video: true });
  await flows(desk, { video: true, session: one });
  await stops(second);
  await stops(desk, two);

  // The first closes the tab: the desk sees the end after the grace period.
  await first.context().close();
  const card = desk.getByTestId('my-customer').filter({ hasText: 'Fay First' });
  await expect(card.getByTestId('customer-status')).toHaveText('wrap-up', { timeout: 20_000 });
  await card.getByRole('button', { name: 'Done' }).click();
  const other = await openConversation(desk, 'Sam Second');
  await other.getByRole('button', { name: 'End', exact: true }).click();
  await other.getByRole('button', { name: 'Done' }).click();
  await second.context().close();
});

test('a customer without camera or microphone goes on by chat, and the representative is told', async ({
  browser,
  page: desk,
}) => {
  await openDesk(desk);
  // This customer's browser refuses the camera and microphone.
  const context = await browser.newContext();
  await context.addInitScript(() => {
    navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
  });
  const page = await context.newPage();
  await open(page, '/');
  await page.getByLabel('Your name').fill('Nina No-Camera');
  await page.getByLabel('What do you need help with?').fill('My camera is blocked');
  await page.getByLabel('Video', { exact: true }).check();
  await page.getByRole('button', { name: 'Talk to a representative' }).click();
  await expect(page.getByTestId('customer-status')).toBeVisible();
  const session = await accept(desk, 'Nina No-Camera');

  // A clear message on the customer's side; the chat works.
  await expect(page.getByTestId('media-problem')).toContainText('camera or microphone is blocked');
  await page.getByPlaceholder('Write a message').fill('I can only type, sorry');
  await page.getByRole('button', { name: 'Send' }).click();
  const card = desk.getByTestId('my-customer').filter({ hasText: 'Nina No-Camera' });
  await expect(card.getByTestId('chat')).toContainText('I can only type, sorry');

  // The representative is told why, and after 5 s that no media arrived,
  // with Retry and End.
  await expect(card).toContainText("The other side's camera or microphone is not available");
  const missing = card.getByTestId('media-missing');
  await expect(missing).toContainText("The customer's video has not arrived.", { timeout: 15_000 });
  await missing.getByRole('button', { name: 'Retry' }).click();
  await expect(missing).toBeHidden();
  await expect(missing).toBeVisible({ timeout: 15_000 });
  expect((await inbound(desk, session)).audioBytes).toBe(0);
  await missing.getByRole('button', { name: 'End' }).click();
  await expect(card.getByTestId('customer-status')).toHaveText('wrap-up');
  await card.getByRole('button', { name: 'Done' }).click();
  await context.close();
});

test('a customer behind a strict NAT: the call is relayed through TURN and media flows both ways', async ({ browser }) => {
  const deskContext = await browser.newContext();
  await deskContext.addInitScript(RELAY_ONLY);
  const desk = await deskContext.newPage();
  await openDesk(desk);
  const nora = await customer(browser, 'Nora Nat', 'Video', RELAY_ONLY);
  const session = await accept(desk, 'Nora Nat');

  await flows(nora, { video: true });
  await flows(desk, { video: true, session });
  // Only relayed candidates could be gathered: the nominated pair is the
  // TURN server's on both sides.
  expect(await nominated(nora)).toEqual({ local: 'relay', remote: 'relay' });
  expect(await nominated(desk, session)).toEqual({ local: 'relay', remote: 'relay' });

  await nora.getByRole('button', { name: 'End conversation' }).click();
  const card = desk.getByTestId('my-customer').filter({ hasText: 'Nora Nat' });
  await expect(card.getByTestId('customer-status')).toHaveText('wrap-up');
  await card.getByRole('button', { name: 'Done' }).click();
  await nora.context().close();
  await deskContext.close();
});

test('a cold transfer to a queue: the customer waits again, a second representative takes the call and the chat', async ({
  browser,
  page: desk,
}) => {
  // Three browsers, and media checked on every pair.
  test.setTimeout(120_000);
  await openDesk(desk);
  const tess = await secondDesk(browser);

  const tara = await customer(browser, 'Tara Transfer', 'Video');
  const session = await accept(desk, 'Tara Transfer');
  await flows(tara, { video: true });
  await tara.getByPlaceholder('Write a message').fill('I need to change my plan.');
  await tara.getByRole('button', { name: 'Send' }).click();
  const card = desk.getByTestId('my-customer').filter({ hasText: 'Tara Transfer' });
  await expect(card.getByTestId('chat')).toContainText('I need to change my plan.');

  // Cora transfers Tara to General (the only queue) with a note.
  await card.getByTestId('transfer-open').click();
  await expect(card.getByTestId('transfer-target')).toContainText('General');
  await card.getByTestId('transfer-note').fill('Plan change, already verified');
  await card.getByTestId('transfer-send').click();
  await expect(card.getByTestId('customer-status')).toHaveText('wrap-up');
  await expect(card.getByTestId('outcome')).toHaveText('Transferred to General.');
  await expect(tara.getByTestId('transferred')).toHaveText('You are being transferred to General.');
  await expect(tara.getByTestId('position')).toHaveText('1');
  // Cora's call is gone: nothing flows to or from her.
  await expect.poll(() => desk.evaluate((id) => !(window as any).switchboardCalls?.get(id)?.pc, session)).toBe(true);

  // Tess goes Ready, is offered Tara with Cora's note, and takes her.
  await tess.getByRole('button', { name: 'Ready', exact: true }).click();
  const offer = tess.getByTestId('offer').filter({ hasText: 'Tara Transfer' });
  await expect(offer.getByTestId('handover')).toContainText('Cora Call');
  await expect(offer.getByTestId('handover-note')).toContainText('Plan change, already verified');
  const again = await accept(tess, 'Tara Transfer');
  expect(again).toBe(session);
  await flows(tara, { video: true });
  await flows(tess, { video: true, session });
  const tessCard = tess.getByTestId('my-customer').filter({ hasText: 'Tara Transfer' });
  await expect(tessCard.getByTestId('chat')).toContainText('I need to change my plan.');
  expect(await desk.evaluate((id) => !(window as any).switchboardCalls?.get(id)?.pc, session)).toBe(true);

  await card.getByRole('button', { name: 'Done' }).click();
  await tessCard.getByRole('button', { name: 'End', exact: true }).click();
  await tessCard.getByRole('button', { name: 'Done' }).click();
  await expect(tess.getByTestId('recent-representatives').first()).toHaveText('With Cora Call, Tess Transfer');
  await tess.getByRole('button', { name: 'Log out of queues' }).click();
  await tara.context().close();
  await tess.context().close();
});

test('a conference: three-way media and chat, and the owner leaves it to the other two', async ({ browser, page: desk }) => {
  // Three browsers, and media checked on every pair.
  test.setTimeout(120_000);
  await openDesk(desk);
  const tess = await secondDesk(browser);

  const cleo = await customer(browser, 'Cleo Conference', 'Video');
  const session = await accept(desk, 'Cleo Conference');
  await flows(cleo, { video: true });
  const card = desk.getByTestId('my-customer').filter({ hasText: 'Cleo Conference' });

  // Cora asks Tess by name to join.
  await card.getByTestId('conference-open').click();
  await choose(card, 'conference-target', 'Tess Transfer');
  await card.getByTestId('conference-send').click();
  await expect(card.getByTestId('outcome')).toHaveText('Asking Tess Transfer to join…');
  const offer = tess.getByTestId('offer').filter({ hasText: 'Cleo Conference' });
  await expect(offer.getByTestId('join-request')).toContainText('Cora Call asks you to join');
  await accept(tess, 'Cleo Conference');
  await expect(card.getByTestId('others')).toHaveText('With Tess Transfer (colleague)');
  await expect(cleo.getByTestId('matched')).toHaveText("You're talking with Cora and Tess");

  // Every pair flows both ways.
  const cora = await me(desk, session);
  const tessId = await me(tess, session);
  await flowsFrom(cleo, cora);
  await flowsFrom(cleo, tessId);
  await flowsFrom(desk, 'customer', session);
  await flowsFrom(desk, tessId, session);
  await flowsFrom(tess, 'customer', session);
  await flowsFrom(tess, cora, session);
  // Chat reaches all three.
  await cleo.getByPlaceholder('Write a message').fill('Hello to you both.');
  await cleo.getByRole('button', { name: 'Send' }).click();
  const tessCard = tess.getByTestId('my-customer').filter({ hasText: 'Cleo Conference' });
  await expect(tessCard.getByTestId('chat')).toContainText('Hello to you both.');
  await tessCard.getByPlaceholder('Write a message').fill('Tess here, from billing.');
  await tessCard.getByRole('button', { name: 'Send' }).click();
  await expect(cleo.getByTestId('chat')).toContainText('Tess here, from billing.');
  await expect(cleo.getByTestId('chat-message').filter({ hasText: 'Tess here' }).locator('.meta')).toContainText('Tess · Colleague');
  await expect(card.getByTestId('chat')).toContainText('Tess here, from billing.');

  // The owner leaves: Tess owns the conversation, the customer and Tess
  // still flow, and nothing flows to Cora any more.
  await card.getByRole('button', { name: 'Leave' }).click();
  await expect(card.getByTestId('customer-status')).toHaveText('wrap-up');
  await expect(tessCard.getByRole('button', { name: 'Hold' })).toBeVisible();
  await flowsFrom(cleo, tessId);
  await flowsFrom(tess, 'customer', session);
  await expect.poll(() => desk.evaluate((id) => !(window as any).switchboardCalls?.get(id), session)).toBe(true);
  await expect.poll(() => cleo.evaluate((cora) => !(window as any).switchboardCalls.values().next().value.peers.has(cora), cora)).toBe(true);

  await card.getByRole('button', { name: 'Done' }).click();
  await tessCard.getByRole('button', { name: 'End', exact: true }).click();
  await tessCard.getByRole('button', { name: 'Done' }).click();
  await tess.getByRole('button', { name: 'Log out of queues' }).click();
  await cleo.context().close();
  await tess.context().close();
});

test('a warm transfer: the representatives consult while the customer hears nothing, then the second takes the call', async ({
  browser,
  page: desk,
}) => {
  // Three browsers, and media checked on every pair.
  test.setTimeout(120_000);
  await openDesk(desk);
  const tess = await secondDesk(browser);

  const wendy = await customer(browser, 'Wendy Warm', 'Video');
  const session = await accept(desk, 'Wendy Warm');
  await flows(wendy, { video: true });
  const card = desk.getByTestId('my-customer').filter({ hasText: 'Wendy Warm' });

  // Cora asks Tess to take Wendy over: Wendy waits on hold.
  await card.getByTestId('warm-open').click();
  await choose(card, 'warm-target', 'Tess Transfer');
  await card.getByTestId('warm-send').click();
  await expect(wendy.getByTestId('on-hold')).toBeVisible();
  await expect(tess.getByTestId('offer').filter({ hasText: 'Wendy Warm' }).getByTestId('join-request')).toContainText(
    'Cora Call asks you to take this customer over',
  );
  await accept(tess, 'Wendy Warm');
  await expect(card.getByRole('button', { name: 'Complete transfer to Tess Transfer' })).toBeEnabled();

  // The consultation: Cora and Tess hear each other; nothing reaches or
  // leaves Wendy.
  const cora = await me(desk, session);
  const tessId = await me(tess, session);
  await flowsFrom(desk, tessId, session);
  await flowsFrom(tess, cora, session);
  await noneFrom(wendy, cora);
  await noneFrom(wendy, tessId);
  await noneFrom(desk, 'customer', session);
  await noneFrom(tess, 'customer', session);

  // Complete: Cora's part ends, Wendy and Tess talk.
  await card.getByRole('button', { name: 'Complete transfer to Tess Transfer' }).click();
  await expect(card.getByTestId('customer-status')).toHaveText('wrap-up');
  await expect(wendy.getByTestId('on-hold')).toBeHidden();
  await flowsFrom(wendy, tessId);
  await flowsFrom(tess, 'customer', session);
  await expect.poll(() => wendy.evaluate((cora) => !(window as any).switchboardCalls.values().next().value.peers.has(cora), cora)).toBe(true);

  await card.getByRole('button', { name: 'Done' }).click();
  const tessCard = tess.getByTestId('my-customer').filter({ hasText: 'Wendy Warm' });
  await tessCard.getByRole('button', { name: 'End', exact: true }).click();
  await tessCard.getByRole('button', { name: 'Done' }).click();
  await tess.getByRole('button', { name: 'Log out of queues' }).click();
  await wendy.context().close();
  await tess.context().close();
});

test('a transfer to a colleague who does not answer: the customer is back at the front of the line, and the first desk is told', async ({
  browser,
  page: desk,
}) => {
  // Waits out the queue's 15 s answer time.
  test.setTimeout(120_000);
  await openDesk(desk);
  const tess = await secondDesk(browser);

  const rhea = await customer(browser, 'Rhea Rona', 'Chat');
  await accept(desk, 'Rhea Rona');
  // Ready only now, so Rhea was offered to Cora alone.
  await tess.getByRole('button', { name: 'Ready', exact: true }).click();
  await expect(tess.getByTestId('agent-state')).toHaveText('Ready');
  const card = desk.getByTestId('my-customer').filter({ hasText: 'Rhea Rona' });
  await card.getByTestId('transfer-open').click();
  await choose(card, 'transfer-target', 'Tess Transfer');
  await card.getByTestId('transfer-send').click();
  await expect(card.getByTestId('outcome')).toHaveText('Transferring to Tess Transfer: waiting for them to accept.');
  await expect(rhea.getByTestId('transferred')).toHaveText('You are being transferred to Tess.');

  // Tess lets the offer ring out: she is made Not ready, Rhea is first in
  // line again, and Cora reads what happened.
  await expect(tess.getByTestId('offer').filter({ hasText: 'Rhea Rona' })).toBeVisible();
  await expect(tess.getByTestId('agent-state')).toHaveText('Not ready (Missed offer)', { timeout: 30_000 });
  await expect(card.getByTestId('outcome')).toHaveText("Tess Transfer did not answer: the customer is back at the front of General's line.");
  await expect(rhea.getByTestId('position')).toHaveText('1');

  await rhea.getByRole('button', { name: 'Leave queue' }).click();
  await card.getByRole('button', { name: 'Done' }).click();
  await tess.getByRole('button', { name: 'Log out of queues' }).click();
  await rhea.context().close();
  await tess.context().close();
});

/** Counts the desktop notifications a page creates, and lets a test put
 * the page "in the background" (not focused, hidden). */
const NOTIFICATIONS = `(() => {
  window.notificationsShown = [];
  const Native = window.Notification;
  window.Notification = class extends Native {
    constructor(title, options) { super(title, options); window.notificationsShown.push(title); }
  };
  window.inBackground = false;
  const hasFocus = Document.prototype.hasFocus;
  Document.prototype.hasFocus = function () { return window.inBackground ? false : hasFocus.call(this); };
  Object.defineProperty(Document.prototype, 'visibilityState', { get: () => (window.inBackground ? 'hidden' : 'visible') });
})()`;

test('the workspace: an offer rings in the background and is taken by keyboard; three chats and a held call stay alive while switching', async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const deskContext = await browser.newContext({ permissions: ['notifications'], viewport: { width: 1280, height: 800 } });
  await deskContext.addInitScript(NOTIFICATIONS);
  const desk = await deskContext.newPage();
  await openDesk(desk);
  await expect(desk.getByTestId('allow-notifications')).toBeHidden();

  // The desk in the background: Hugo's offer makes one notification and
  // shows in the tab's title; the A key accepts it.
  await desk.evaluate(() => ((window as any).inBackground = true));
  const hugo = await customer(browser, 'Hugo Held', 'Video');
  await expect(desk.getByTestId('offer').filter({ hasText: 'Hugo Held' })).toBeVisible();
  await expect(desk).toHaveTitle(/^\(1\) Offer waiting/);
  await expect.poll(() => desk.evaluate(() => (window as any).notificationsShown)).toEqual(['Offer: Hugo Held']);
  await desk.evaluate(() => ((window as any).inBackground = false));
  await desk.keyboard.press('a');
  const held = desk.getByTestId('my-customer').filter({ hasText: 'Hugo Held' });
  await expect(held).toBeVisible();
  await expect(desk).toHaveTitle(/^Desk/);
  const call = (await held.getAttribute('data-session'))!;
  await flows(desk, { video: true, session: call });
  await held.getByRole('button', { name: 'Hold' }).click();
  await expect(hugo.getByTestId('on-hold')).toBeVisible();

  // Three chat customers, each taken; the last one taken is open.
  const names = ['Chad Chat', 'Chloe Chat', 'Chris Chat'];
  const chats: Page[] = [];
  for (const name of names) {
    chats.push(await customer(browser, name, 'Chat'));
    await accept(desk, name);
  }
  const items = desk.getByTestId('conversation-item');
  await expect(items).toHaveCount(4);
  await expect(items.filter({ hasText: 'Hugo Held' }).getByTestId('item-status')).toHaveText('on hold');
  await expect(desk.getByTestId('my-customer').filter({ visible: true })).toHaveCount(1);

  // Each customer writes; a conversation not open counts it as unread
  // until opened, and every chat has what its customer wrote.
  for (const [at, page] of chats.entries()) {
    await page.getByPlaceholder('Write a message').fill(`Message from ${names[at]}`);
    await page.getByRole('button', { name: 'Send' }).click();
  }
  await expect(items.filter({ hasText: 'Chad Chat' }).getByTestId('unread')).toHaveText('1');
  await expect(items.filter({ hasText: 'Chloe Chat' }).getByTestId('unread')).toHaveText('1');
  await expect(items.filter({ hasText: 'Chris Chat' }).getByTestId('unread')).toHaveCount(0);
  for (const name of names) {
    const open = await openConversation(desk, name);
    await expect(open.getByTestId('chat')).toContainText(`Message from ${name}`);
    await expect(items.filter({ hasText: name }).getByTestId('unread')).toHaveCount(0);
    await open.getByPlaceholder('Write a message').fill(`Hello ${name}`);
    await open.getByRole('button', { name: 'Send' }).click();
    await expect(chats[names.indexOf(name)].getByTestId('chat')).toContainText(`Hello ${name}`);
  }

  // Back to Hugo: his call was kept through the switching and resumes.
  const hugoPanel = await openConversation(desk, 'Hugo Held');
  await hugoPanel.getByRole('button', { name: /Resume/ }).click();
  await flows(desk, { video: true, session: call });
  await flows(hugo, { video: true });

  // Switching away and back again keeps the call flowing, and a chat not
  // open still receives.
  await openConversation(desk, 'Chad Chat');
  await flows(desk, { video: true, session: call });
  await chats[1].getByPlaceholder('Write a message').fill('Are you still there?');
  await chats[1].getByRole('button', { name: 'Send' }).click();
  await expect(items.filter({ hasText: 'Chloe Chat' }).getByTestId('unread')).toHaveText('1');
  await expect(desk.getByTestId('my-customer').filter({ hasText: 'Chloe Chat' }).getByTestId('chat')).toContainText('Are you still there?');
  await openConversation(desk, 'Hugo Held');
  await flows(desk, { video: true, session: call });

  // With four conversations and an offer ringing, the desk fits a 13-inch
  // laptop's screen without scrolling sideways (the screenshot in docs/features.md).
  const olga = await customer(browser, 'Olga Offer', 'Audio only');
  await expect(desk.getByTestId('offer').filter({ hasText: 'Olga Offer' })).toBeVisible();
  for (const size of [{ width: 1280, height: 800 }, { width: 1440, height: 900 }]) {
    await desk.setViewportSize(size);
    expect(await desk.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(size.width);
  }
  if (process.env.SCREENSHOTS) {
    await desk.setViewportSize({ width: 1280, height: 800 });
    await desk.evaluate(() => window.scrollTo(0, 0));
    await desk.screenshot({ path: 'screenshots/desk.png' });
  }
  // D declines it (she is not offered to this desk again) and she leaves.
  await desk.keyboard.press('d');
  await expect(desk.getByTestId('offer')).toHaveCount(0);
  await expect(desk).toHaveTitle(/^Desk/);
  await olga.getByRole('button', { name: 'Leave queue' }).click();
  await olga.context().close();

  for (const name of ['Hugo Held', ...names]) {
    const open = await openConversation(desk, name);
    await open.getByRole('button', { name: 'End', exact: true }).click();
    await open.getByRole('button', { name: 'Done' }).click();
  }
  await expect(items).toHaveCount(0);
  for (const page of [hugo, ...chats]) await page.context().close();
  await deskContext.close();
});
