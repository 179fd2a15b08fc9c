// The messages between a host page's widget loader
// (server/src/widget/loader.js) and the widget's panel
// (app/src/widget/bridge.js), declared once for both. Every message is an
// object carrying the protocol's version, `switchboard: 1`, and a `type`;
// each side sends only to the other's origin and accepts only from it.

/** The protocol's version (`app::widget::MESSAGE_VERSION`). */
export type Version = 1;

/** What the customer sees in the panel now. */
export type PanelState = 'form' | 'waiting' | 'talking' | 'ended';

/** What the loader sends the panel. */
export type ToPanel =
  /** The loader heard `ready`: the panel may now write to this origin. */
  | { switchboard: Version; type: 'hello' }
  /** A token the site's backend signed, naming the customer. */
  | { switchboard: Version; type: 'identify'; token: string };

/** What the panel sends the loader. */
export type ToLoader =
  /** Sent to each of the key's origins once the panel is up. */
  | { switchboard: Version; type: 'ready' }
  /** What the customer sees now; their place while waiting. */
  | { switchboard: Version; type: 'status'; state: PanelState; position: number | null }
  /** The customer pressed Escape in the panel: the loader closes it. */
  | { switchboard: Version; type: 'close' };

/** What a host page's listeners of `status` receive. */
export interface Status {
  state: string;
  position: number | null;
}

/** The answer of `GET /widget/config?key=…` for a site that may show it. */
export interface WidgetConfig {
  switchboard: Version;
  accent: string;
  label: string;
}

/** `window.Switchboard`: the host page's commands, and the stub's queue. */
export interface Api {
  (command: string, a?: unknown, b?: unknown): void;
  loaded?: boolean;
  q?: IArguments[] | unknown[][];
}

declare global {
  interface Window {
    Switchboard?: Api;
  }
}
