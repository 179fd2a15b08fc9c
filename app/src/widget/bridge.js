// The panel's side of the widget's messages with the host page (the
// loader, /widget.js). Every message is an object with `switchboard: 1`
// (the version) and a `type`. The panel only listens to its parent window
// from one of its key's origins, and only writes to the origin that
// answered it, never to "*". The messages are declared in protocol.d.ts.

/** @typedef {import('./protocol').ToPanel} ToPanel */
/** @typedef {import('./protocol').ToLoader} ToLoader */
/** @typedef {import('./protocol').PanelState} PanelState */

/** @type {import('./protocol').Version} */
const VERSION = 1;
/** @type {string | null} */
let parentOrigin = null;
/** @type {ToLoader | null} */
let last = null;

// Listens for the loader's messages: `hello` (the loader answers `ready`,
// and says which origin it is on) and `identify` (a token the site's
// backend signed), handed to `onIdentify`.
/**
 * @param {string[]} origins the key's sites
 * @param {(token: string) => void} onIdentify
 */
export function listen(origins, onIdentify) {
  if (window.parent === window) return;
  window.addEventListener('message', (event) => {
    /** @type {Partial<ToPanel> & { token?: unknown } | null} */
    const data = event.data;
    if (event.source !== window.parent || !origins.includes(event.origin)) return;
    if (!data || data.switchboard !== VERSION || typeof data.type !== 'string') return;
    if (data.type === 'hello') {
      parentOrigin = event.origin;
      if (last) post(last);
    } else if (data.type === 'identify' && typeof data.token === 'string') {
      onIdentify(data.token);
    }
  });
  // Escape closes the panel (the loader gives the focus back to its button).
  window.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !event.defaultPrevented) post({ switchboard: VERSION, type: 'close' });
  });
  // Tell the loader the panel is ready, on whichever allowed origin it is:
  // a message to any other origin is dropped by the browser.
  for (const origin of origins) window.parent.postMessage({ switchboard: VERSION, type: 'ready' }, origin);
}

// Tells the host page what the customer sees now: `state` is `form`,
// `waiting`, `talking` or `ended`; `position` while waiting.
/**
 * @param {PanelState} state
 * @param {number | null | undefined} position
 */
export function tell(state, position) {
  last = { switchboard: VERSION, type: 'status', state, position: position ?? null };
  if (parentOrigin) post(last);
}

/** @param {ToLoader} message */
function post(message) {
  if (parentOrigin) window.parent.postMessage(message, parentOrigin);
}
