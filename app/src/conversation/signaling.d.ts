// What a conversation's pages and the server say over /ws/signal
// (app/src/conversation/signaling.rs), declared once for call.js.

/** What one page sends another (`Sends` in roles.rs). */
export type Sends = 'nothing' | 'voice' | 'everything';

/** Another participant, as the server lists them (`Peer`). */
export interface PeerListing {
  /** Their signaling address: `customer` or a representative's id. */
  party: string;
  send: Sends;
  receive: boolean;
  shown: boolean;
  /** This page forwards the customer's media to them. */
  forward?: boolean;
  /** They forward the customer's media to this page. */
  forwarded?: boolean;
}

/** The server's list of the page's peers (`Peers`). */
export interface PeersMessage {
  type: 'peers';
  me: string;
  peers: PeerListing[];
}

/** What one page sends another through the relay, addressed with `to`;
 * the relay adds `from`. `gen` names the pair's connection. */
export type Signal =
  | { type: 'call' }
  | { type: 'ready' }
  | { type: 'offer'; gen: string; sdp: RTCSessionDescriptionInit }
  | { type: 'answer'; gen: string; sdp: RTCSessionDescriptionInit }
  | { type: 'candidate'; gen: string; candidate: RTCIceCandidateInit }
  | { type: 'no-media'; reason: string };

/** A signal as it arrives: with its sender. */
export type Received = Signal & { from: string };

/** What the page's Rust gives the call (`media.rs`), as JSON. */
export interface CallConfig {
  session: string;
  side: 'agent' | 'customer';
  video: boolean;
  held: boolean;
  iceServers?: RTCIceServer[];
}

declare global {
  interface Window {
    /** The calls on this page by help session, for tests and benchmarks. */
    switchboardCalls?: Map<string, import('./call.js').Call>;
  }
}
