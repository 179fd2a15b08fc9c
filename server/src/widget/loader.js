// Switchboard's widget loader: <script src=".../widget.js" data-key="wk_..." async>.
// It asks the server whether this site may show the key; only then does it
// add a button and, when opened, a panel framing the customer experience.
// The panel is a dialog named by the key's label: opened from the button it
// takes the focus, and Escape (in the panel or its frame) or × closes it,
// giving the focus back to the button.
// Everything it draws lives in a shadow root, so the host page's
// styles and ours never meet. If the server cannot be reached it shows
// nothing (the script is async: it never holds the page up).
//
// The host page talks to it with Switchboard(command, ...):
//   Switchboard('open') / Switchboard('close')
//   Switchboard('identify', token)   a JWT the site's backend signed (HS256,
//                                    the widget's secret) naming the customer
//   Switchboard('on', event, fn)     events: 'open', 'close', 'status'
//                                    ({state, position}), 'unavailable'
// Calls made before the script loads are queued by the usual stub:
//   window.Switchboard = window.Switchboard || function () {
//     (Switchboard.q = Switchboard.q || []).push(arguments); };
// Messages with the panel are objects with `switchboard: 1` (the version)
// and a `type`, sent only to the server's origin and accepted only from
// the panel's window on it (the messages: app/src/widget/protocol.d.ts).
(function () {
  'use strict';
  /** @typedef {import('../../../app/src/widget/protocol').ToPanel} ToPanel */
  /** @typedef {import('../../../app/src/widget/protocol').ToLoader} ToLoader */
  /** @typedef {import('../../../app/src/widget/protocol').Status} Status */
  /** @typedef {import('../../../app/src/widget/protocol').WidgetConfig} WidgetConfig */
  /** @typedef {import('../../../app/src/widget/protocol').Api} Api */
  /**
   * What the loader drew: the button, the panel, and the frame once made.
   * @typedef {{ button: HTMLButtonElement, panel: HTMLDivElement, frame: HTMLIFrameElement | null, label: string }} Ui
   */
  /** @typedef {(detail: unknown) => void} Listener */

  /** @type {import('../../../app/src/widget/protocol').Version} */
  var VERSION = 1;
  var script = document.currentScript;
  if (!(script instanceof HTMLScriptElement) || (window.Switchboard && window.Switchboard.loaded)) return;
  var key = script.getAttribute('data-key') || '';
  var server = new URL(script.src, location.href).origin;
  /** @type {ArrayLike<unknown>[]} */
  var queued = (window.Switchboard && window.Switchboard.q) || [];
  /** @type {Record<string, Listener[]>} */
  var listeners = {};
  /** @type {string | null} */
  var token = null;
  /** @type {Ui | null} */
  var ui = null;

  // What survives the host page's navigation: whether the panel was open
  // and what the customer last saw (the place itself is the server's).
  /**
   * @param {string} name
   * @param {unknown} value
   */
  function remember(name, value) {
    try { sessionStorage.setItem('switchboard:' + key + ':' + name, JSON.stringify(value)); } catch (e) { /* storage off */ }
  }
  /** @param {string} name */
  function recall(name) {
    try { return JSON.parse(sessionStorage.getItem('switchboard:' + key + ':' + name) || 'null'); } catch (e) { return null; }
  }

  /**
   * @param {string} event
   * @param {unknown} detail
   */
  function emit(event, detail) {
    (listeners[event] || []).slice().forEach(function (listener) {
      try { listener(detail); } catch (e) { setTimeout(function () { throw e; }); }
    });
  }

  /**
   * The host page's commands (see the top of this file).
   * @param {string} command
   * @param {unknown} [a]
   * @param {unknown} [b]
   */
  function api(command, a, b) {
    if (command === 'on' && typeof a === 'string' && typeof b === 'function') (listeners[a] = listeners[a] || []).push(/** @type {Listener} */ (b));
    else if (command === 'off' && typeof a === 'string') listeners[a] = (listeners[a] || []).filter(function (l) { return l !== b; });
    else if (command === 'identify' && typeof a === 'string') { token = a; send({ switchboard: VERSION, type: 'identify', token: a }); }
    else if (command === 'open' && ui) open();
    else if (command === 'close' && ui) close();
    else if (command === 'open' || command === 'close') queued.push([command]);
  }
  api.loaded = true;
  window.Switchboard = api;
  var early = queued;
  queued = [];
  early.forEach(function (call) { api.apply(null, /** @type {[string, unknown?, unknown?]} */ (Array.from(call))); });

  /** @param {ToPanel} message */
  function send(message) {
    if (!ui || !ui.frame || !ui.frame.contentWindow) return;
    ui.frame.contentWindow.postMessage(message, server);
  }

  var CSS =
    ':host{all:initial}' +
    '.button{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:999px;padding:12px 20px;' +
    'font:600 15px/1.2 system-ui,sans-serif;color:#fff;background:var(--accent);box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer}' +
    '.button:focus-visible{outline:3px solid #000;outline-offset:2px}' +
    '.panel{position:fixed;right:20px;bottom:76px;z-index:2147483000;width:min(400px,calc(100vw - 40px));' +
    'height:min(640px,calc(100vh - 100px));display:flex;flex-direction:column;background:#fff;border-radius:12px;' +
    'overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.3)}' +
    '.panel[hidden]{display:none}' +
    '.bar{display:flex;align-items:center;justify-content:space-between;padding:8px 12px;color:#fff;background:var(--accent);' +
    'font:600 15px/1.2 system-ui,sans-serif}' +
    '.close{border:0;background:transparent;color:#fff;font:400 22px/1 system-ui,sans-serif;cursor:pointer;padding:2px 6px}' +
    'iframe{flex:1;border:0;width:100%}';

  /** @param {WidgetConfig} config */
  function mount(config) {
    var host = document.createElement('div');
    host.setAttribute('data-switchboard-widget', '');
    var root = host.attachShadow({ mode: 'open' });
    if (typeof CSSStyleSheet === 'function' && 'replaceSync' in CSSStyleSheet.prototype) {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      var style = document.createElement('style');
      style.textContent = CSS;
      root.appendChild(style);
    }
    host.style.setProperty('--accent', config.accent);
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'button';
    button.setAttribute('aria-expanded', 'false');
    var panel = document.createElement('div');
    panel.className = 'panel';
    panel.hidden = true;
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-label', config.label);
    var bar = document.createElement('div');
    bar.className = 'bar';
    var title = document.createElement('span');
    title.textContent = config.label;
    var shut = document.createElement('button');
    shut.type = 'button';
    shut.className = 'close';
    shut.setAttribute('aria-label', 'Close');
    shut.textContent = '\u00d7';
    bar.appendChild(title);
    bar.appendChild(shut);
    panel.appendChild(bar);
    root.appendChild(panel);
    root.appendChild(button);
    document.body.appendChild(host);
    var drawn = { button: button, panel: panel, frame: null, label: config.label };
    ui = drawn;
    button.addEventListener('click', function () { panel.hidden ? open(true) : close(true); });
    shut.addEventListener('click', function () { close(true); });
    panel.addEventListener('keydown', function (event) {
      if (event.key === 'Escape') { event.preventDefault(); close(true); }
    });
    window.addEventListener('message', receive);
    // The panel as it was before the page changed: open, or at least
    // connected while the customer waits or talks, so they keep their place.
    var status = recall('status');
    label(status);
    if (recall('open')) open();
    else if (status && (status.state === 'waiting' || status.state === 'talking')) frame();
    queued.forEach(function (call) { api.apply(null, /** @type {[string, unknown?, unknown?]} */ (Array.from(call))); });
    queued = [];
  }

  function frame() {
    if (!ui || ui.frame) return;
    var iframe = document.createElement('iframe');
    iframe.src = server + '/widget?key=' + encodeURIComponent(key);
    iframe.title = ui.label;
    iframe.allow = 'camera; microphone; autoplay';
    ui.frame = iframe;
    ui.panel.appendChild(iframe);
  }

  /** @param {boolean} [byCustomer] opened from the button: the focus goes into the panel */
  function open(byCustomer) {
    frame();
    if (!ui) return;
    ui.panel.hidden = false;
    if (byCustomer && ui.frame) ui.frame.focus();
    ui.button.setAttribute('aria-expanded', 'true');
    remember('open', true);
    emit('open', {});
  }

  /** @param {boolean} [byCustomer] closed by the customer: the focus goes back to the button */
  function close(byCustomer) {
    if (!ui) return;
    ui.panel.hidden = true;
    if (byCustomer) ui.button.focus();
    ui.button.setAttribute('aria-expanded', 'false');
    remember('open', false);
    emit('close', {});
  }

  /** @param {Status | null} status */
  function label(status) {
    if (!ui) return;
    var text = ui.label;
    if (status && status.state === 'waiting' && status.position) text = 'You are number ' + status.position + ' in line';
    else if (status && status.state === 'talking') text = 'Back to your conversation';
    ui.button.textContent = text;
  }

  /** @param {MessageEvent} event */
  function receive(event) {
    /** @type {Partial<ToLoader> & { state?: unknown, position?: unknown } | null} */
    var data = event.data;
    if (!ui || !ui.frame || event.source !== ui.frame.contentWindow || event.origin !== server) return;
    if (!data || data.switchboard !== VERSION) return;
    if (data.type === 'ready') {
      send({ switchboard: VERSION, type: 'hello' });
      if (token) send({ switchboard: VERSION, type: 'identify', token: token });
    } else if (data.type === 'status') {
      /** @type {Status} */
      var status = { state: String(data.state), position: typeof data.position === 'number' ? data.position : null };
      remember('status', status);
      label(status);
      emit('status', status);
    } else if (data.type === 'close') {
      close(true);
    }
  }

  function start() {
    var abort = new AbortController();
    var timer = setTimeout(function () { abort.abort(); }, 10000);
    fetch(server + '/widget/config?key=' + encodeURIComponent(key), { credentials: 'omit', signal: abort.signal })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(/** @param {WidgetConfig | null} config */ function (config) {
        clearTimeout(timer);
        if (!config || config.switchboard !== VERSION) throw new Error('unknown version');
        mount(config);
      })
      .catch(function () { clearTimeout(timer); emit('unavailable', {}); });
  }

  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start);
})();
