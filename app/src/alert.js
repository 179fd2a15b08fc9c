// Alerts. An offer rings on the desk: a two-tone chime every few seconds
// while an offer waits, and a desktop notification for each new offer while
// the desk is not the window in front. A customer keeping their place gets
// a chime and a notification when their turn is near. The sound needs the
// page to have been clicked once (the browser's rule for audio); the
// notification needs the permission, asked once.

const EVERY_MS = 3000;
/** @type {AudioContext | null} */
let audio = null;
/** @type {ReturnType<typeof setInterval> | null} */
let timer = null;

/** The page's audio, made at the first use; none without Web Audio. */
function context() {
  if (!audio && typeof AudioContext !== 'undefined') audio = new AudioContext();
  return audio;
}

// The first click or key on the page lets the desk make sound later.
for (const kind of ['pointerdown', 'keydown']) {
  document.addEventListener(kind, () => { const ctx = context(); if (ctx && ctx.state === 'suspended') ctx.resume(); }, { once: true });
}

function chime() {
  const ctx = context();
  if (!ctx || ctx.state !== 'running') return;
  /** @type {[number, number][]} */
  const tones = [[880, 0], [660, 0.18]];
  tones.forEach(([pitch, at]) => {
    const tone = ctx.createOscillator();
    const level = ctx.createGain();
    tone.frequency.value = pitch;
    level.gain.setValueAtTime(0.0001, ctx.currentTime + at);
    level.gain.exponentialRampToValueAtTime(0.2, ctx.currentTime + at + 0.02);
    level.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + at + 0.16);
    tone.connect(level).connect(ctx.destination);
    tone.start(ctx.currentTime + at);
    tone.stop(ctx.currentTime + at + 0.18);
  });
}

// Rings now and every few seconds until `stopRinging`.
export function startRinging() {
  if (timer !== null) return;
  chime();
  timer = setInterval(chime, EVERY_MS);
}

export function stopRinging() {
  if (timer !== null) clearInterval(timer);
  timer = null;
}

// "granted", "denied", "default", or "unsupported".
export function notificationPermission() {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

// Asks for the permission (from a click); calls back with the answer.
/** @param {(permission: string) => void} answered */
export function askNotificationPermission(answered) {
  if (typeof Notification === 'undefined') return answered('unsupported');
  Notification.requestPermission().then(answered, () => answered(Notification.permission));
}

// A desktop notification for a new offer, when the desk is not in front.
// Clicking it brings the desk forward.
/**
 * @param {string} title
 * @param {string} body
 * @param {string} tag one per offer: a second notification replaces it
 */
export function notifyOffer(title, body, tag) {
  if (notificationPermission() !== 'granted') return;
  if (document.visibilityState === 'visible' && document.hasFocus()) return;
  const note = new Notification(title, { body, tag, requireInteraction: true });
  note.onclick = () => { window.focus(); note.close(); };
}

// A customer's turn is near: a chime, and a notification wherever the page
// is (the customer may be on another tab or window). Clicking it brings the
// page forward.
/**
 * @param {string} title
 * @param {string} body
 */
export function turnNear(title, body) {
  chime();
  if (notificationPermission() !== 'granted') return;
  const note = new Notification(title, { body, tag: 'switchboard-turn', requireInteraction: true });
  note.onclick = () => { window.focus(); note.close(); };
}
