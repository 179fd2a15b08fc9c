// The media of one conversation on one page: a mesh of WebRTC peer
// connections, one per other participant this page connects to (the
// customer and their representative; in a conference every pair; a
// supervisor with the representatives, and with the customer only once
// barged in: a customer's page never connects to anyone who listens in
// silence or whispers). The server only relays the signaling (offers,
// answers, ICE candidates) over /ws/signal, addressed to one participant,
// and tells the page who its peers are and, for each, what the page sends
// them (`nothing`, `voice` or `everything`), whether they send to it, and
// whether it shows them (`peers`), as the roles and the hold state say
// (engine/src/roles.rs). A supervisor switching modes changes
// only what is sent: the connections stay.
//
// In each pair one side makes the offers: a representative towards the
// customer, and between two representatives the smaller id. Every (re)start
// of a pair has a new generation id, so a page that reloads or retries
// starts a clean connection and late messages of an old one are ignored.
// Hold really stops media: every sender's track towards the held party is
// replaced with none (bytes stop, no renegotiation); resume puts them back.
//
// A pair of two representatives (or supervisors) carries two sets of
// tracks: the page's own, and the customer's as the other page receives
// them. The owner's page forwards the customer's media on the second set
// to each monitoring or whispering supervisor (`forward` in `peers`), whose
// page shows it apart (`forwarded`); on other pairs it stays empty.
//
// The pages' Rust (media.rs) builds one Call per conversation and is told
// what happens through `onEvent(kind, detail)`. Tests and the benchmark
// reach the peer connections through `window.switchboardCalls`:
// `call.peers` (by participant: "customer" or a representative's id),
// `call.pc` (the first peer's) and `call.kinds` (a pair's transceivers past
// that many carry the forwarded customer).

// The messages are declared in signaling.d.ts.
/** @typedef {import('./signaling').Sends} Sends */
/** @typedef {import('./signaling').PeersMessage} PeersMessage */
/** @typedef {import('./signaling').Signal} Signal */
/** @typedef {import('./signaling').Received} Received */
/** @typedef {import('./signaling').CallConfig} CallConfig */

const calls = (window.switchboardCalls ??= new Map());

/** Milliseconds after which missing media from the customer is reported. */
const MEDIA_DEADLINE_MS = 5000;

const CUSTOMER = 'customer';

function newGeneration() {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** One other participant and the connection with them. */
class Peer {
  /**
   * @param {Call} call
   * @param {string} party their signaling address
   * @param {HTMLVideoElement} video where their media shows
   */
  constructor(call, party, video) {
    this.call = call;
    this.party = party;
    /** What this page sends the peer. @type {Sends} */
    this.sends = 'nothing';
    /** @type {RTCPeerConnection | null} */
    this.pc = null;
    /** @type {string | null} */
    this.gen = null;
    /** ICE candidates that came before the remote description. @type {RTCIceCandidateInit[]} */
    this.pending = [];
    this.video = video;
    /** Whether this page forwards the customer's media to the peer. */
    this.forward = false;
    /** The customer's media as the peer forwards it, and where it shows. */
    this.forwarded = false;
    /** @type {HTMLVideoElement | null} */
    this.relayVideo = null;
  }

  /** Whether the pair carries the customer's forwarded media too: any
   * pair without the customer in it. */
  get relays() {
    return this.call.me !== CUSTOMER && this.party !== CUSTOMER;
  }

  /** Whether this page makes the offers in the pair. */
  get offerer() {
    const me = this.call.me;
    if (me === CUSTOMER) return false;
    if (this.party === CUSTOMER) return true;
    return me !== null && me < this.party;
  }

  /** Whether this page sends its track of `kind` to the peer now.
   * @param {string} kind */
  sending(kind) {
    const customerPair = this.call.me === CUSTOMER || this.party === CUSTOMER;
    if (customerPair && this.call.held) return false;
    return this.sends === 'everything' || (this.sends === 'voice' && kind === 'audio');
  }

  /** The track of `kind` this page sends on the transceiver at `index`.
   * @param {number} index
   * @param {string} kind
   * @returns {MediaStreamTrack | null} */
  trackFor(index, kind) {
    if (index < this.call.kinds.length) {
      return this.sending(kind) ? (this.call.stream?.getTracks().find((t) => t.kind === kind) ?? null) : null;
    }
    return this.forward && !this.call.held ? this.call.customerTrack(kind) : null;
  }

  /** @param {Signal} message */
  send(message) {
    this.call.send({ ...message, to: this.party });
  }

  /** A new peer connection for generation `gen`, replacing any other.
   * @param {string} gen */
  newConnection(gen) {
    this.pc?.close();
    const pc = new RTCPeerConnection({ iceServers: this.call.iceServers });
    this.pc = pc;
    this.gen = gen;
    this.pending = [];
    const remote = new MediaStream();
    this.video.srcObject = remote;
    const relayed = new MediaStream();
    if (this.relays) {
      this.relayVideo ??= this.call.extraVideo(this.video);
      this.relayVideo.srcObject = relayed;
      this.relayVideo.hidden = !this.forwarded;
    }
    pc.onicecandidate = (event) => {
      if (event.candidate && this.pc === pc) this.send({ type: 'candidate', gen, candidate: event.candidate.toJSON() });
    };
    pc.ontrack = (event) => {
      if (this.pc !== pc) return;
      const index = pc.getTransceivers().indexOf(event.transceiver);
      const relay = this.relays && index >= this.call.kinds.length ? this.relayVideo : null;
      const [stream, video] = relay ? [relayed, relay] : [remote, this.video];
      stream.addTrack(event.track);
      video.srcObject = stream;
      video.play?.().catch(() => {});
      // New tracks from the customer: pass them on to whom this page forwards.
      if (this.party === CUSTOMER) this.call.forwardCustomer();
    };
    this.call.watch(this, pc);
    return pc;
  }

  /** The offering side (re)starts the pair with a new offer. */
  async offer() {
    await this.call.acquire();
    if (this.call.closed || !this.call.peers.has(this.party)) return;
    const gen = newGeneration();
    const pc = this.newConnection(gen);
    const kinds = this.call.kinds;
    for (const kind of this.relays ? [...kinds, ...kinds] : kinds) {
      pc.addTransceiver(kind, { direction: 'sendrecv' });
    }
    await this.applyTracks();
    await pc.setLocalDescription(await pc.createOffer());
    if (pc.localDescription) this.send({ type: 'offer', gen, sdp: pc.localDescription.toJSON() });
  }

  /** The answering side takes an offer (a new generation: a new connection).
   * @param {{ gen: string, sdp: RTCSessionDescriptionInit }} message */
  async answer(message) {
    await this.call.acquire();
    let pc = this.pc;
    if (!pc || message.gen !== this.gen) pc = this.newConnection(message.gen);
    await pc.setRemoteDescription(message.sdp);
    for (const transceiver of pc.getTransceivers()) transceiver.direction = 'sendrecv';
    await this.applyTracks();
    await pc.setLocalDescription(await pc.createAnswer());
    if (pc.localDescription) this.send({ type: 'answer', gen: message.gen, sdp: pc.localDescription.toJSON() });
    await this.flush();
  }

  async flush() {
    const pc = this.pc;
    if (pc) for (const candidate of this.pending.splice(0)) await pc.addIceCandidate(candidate);
  }

  /** Puts the local (and forwarded) tracks on the senders, or none while
   * not sending. */
  async applyTracks() {
    if (!this.pc) return;
    for (const [index, transceiver] of this.pc.getTransceivers().entries()) {
      if (transceiver.currentDirection === 'stopped') continue;
      const track = this.trackFor(index, transceiver.receiver.track.kind);
      if (transceiver.sender.track !== track) await transceiver.sender.replaceTrack(track);
    }
  }

  close() {
    this.pc?.close();
    this.pc = null;
    this.relayVideo?.remove();
    if (this.video !== this.call.firstVideo) this.video.remove();
    else this.video.srcObject = null;
  }
}

export class Call {
  /**
   * @param {string} config the `CallConfig`, as JSON
   * @param {HTMLVideoElement} localVideo the self preview
   * @param {HTMLVideoElement} remoteVideo the first peer's video
   * @param {(kind: string, detail: string) => void} onEvent
   */
  constructor(config, localVideo, remoteVideo, onEvent) {
    /** @type {CallConfig} */
    const c = JSON.parse(config);
    this.session = c.session;
    this.agent = c.side === 'agent';
    /** This page's signaling address, once the server said it. @type {string | null} */
    this.me = this.agent ? null : CUSTOMER;
    this.wantVideo = !!c.video;
    this.iceServers = c.iceServers ?? [];
    this.localVideo = localVideo;
    this.firstVideo = remoteVideo;
    this.onEvent = onEvent;
    this.held = !!c.held;
    this.muted = false;
    this.cameraOff = false;
    this.closed = false;
    /** @type {Map<string, Peer>} */
    this.peers = new Map();
    /** Signals waiting for the socket. @type {(Signal & { to: string })[]} */
    this.outbox = [];
    /** @type {MediaStream | null} */
    this.stream = null;
    /** The page's steps, one after another. @type {Promise<unknown>} */
    this.chain = Promise.resolve();
    /** @type {WebSocket | null} */
    this.ws = null;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.heartbeat = undefined;
    this.mediaFailed = false;
    /** Why this page has no camera or microphone, if so. @type {string | null} */
    this.noMedia = null;
    calls.set(this.session, this);
    this.start();
  }

  /** The kinds of media the call carries. */
  get kinds() {
    return this.wantVideo ? ['audio', 'video'] : ['audio'];
  }

  /** The customer's media of `kind` as this page receives it, if any.
   * @param {string} kind */
  customerTrack(kind) {
    const pc = this.peers.get(CUSTOMER)?.pc;
    return pc?.getReceivers().find((receiver) => receiver.track?.kind === kind)?.track ?? null;
  }

  /** Puts the customer's current tracks on every forwarding pair. */
  forwardCustomer() {
    this.chain = this.chain
      .then(() => Promise.all([...this.peers.values()].filter((peer) => peer.forward).map((peer) => peer.applyTracks())))
      .catch((error) => console.error('forward', error));
  }

  /** The first peer's connection (the customer's, on a desk). */
  get pc() {
    for (const peer of this.peers.values()) if (peer.pc) return peer.pc;
    return null;
  }

  /**
   * @param {string} kind
   * @param {string} [detail]
   */
  emit(kind, detail = '') {
    try {
      this.onEvent(kind, detail);
    } catch (error) {
      console.error('call event', error);
    }
  }

  async start() {
    await this.acquire();
    this.connect();
  }

  /** The camera and microphone; on failure the conversation goes on as chat. */
  async acquire() {
    if (this.stream || this.closed || this.mediaFailed) return;
    const what = this.wantVideo ? 'camera or microphone' : 'microphone';
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: this.wantVideo });
      this.localVideo.srcObject = this.stream;
      this.setMuted(this.muted);
      this.setCameraOff(this.cameraOff);
      this.emit('local-media');
    } catch (error) {
      this.stream = null;
      this.mediaFailed = true;
      const name = error instanceof Error ? error.name : '';
      const reason =
        name === 'NotAllowedError' || name === 'SecurityError'
          ? `Your ${what} is blocked in this browser`
          : name === 'NotFoundError' || name === 'OverconstrainedError'
            ? `No ${what} was found`
            : `Your ${what} could not be started`;
      this.noMedia = reason;
      this.emit('local-media-error', `${reason}. The conversation goes on by chat below.`);
    }
  }

  connect() {
    if (this.closed) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ws/signal?session=${this.session}`);
    this.ws = ws;
    ws.onopen = () => {
      for (const message of this.outbox.splice(0)) ws.send(JSON.stringify(message));
      this.heartbeat = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('ping'), 10000);
    };
    ws.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      this.chain = this.chain.then(() => this.receive(message)).catch((error) => console.error('signal', error));
    };
    ws.onclose = () => {
      clearInterval(this.heartbeat);
      if (!this.closed) setTimeout(() => this.connect(), 1000);
    };
  }

  /** @param {Signal & { to: string }} message */
  send(message) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
    else this.outbox.push(message);
  }

  /** A video element for another peer's media, beside the first. */
  videoFor() {
    const used = new Set([...this.peers.values()].map((peer) => peer.video));
    if (!used.has(this.firstVideo)) return this.firstVideo;
    return this.extraVideo(this.firstVideo);
  }

  /** A new video element like the first, placed after `after`.
   * @param {HTMLVideoElement} after */
  extraVideo(after) {
    const video = /** @type {HTMLVideoElement} */ (this.firstVideo.cloneNode(false));
    video.srcObject = null;
    video.hidden = false;
    after.after(video);
    return video;
  }

  /** The server's list of this page's peers: new ones are called, gone
   * ones closed, and what is sent follows each pair's flow.
   * @param {PeersMessage} message */
  async meet(message) {
    this.me = message.me;
    const listed = new Map(message.peers.map((peer) => [peer.party, peer]));
    for (const [party, peer] of this.peers) {
      if (!listed.has(party)) {
        peer.close();
        this.peers.delete(party);
      }
    }
    for (const listing of listed.values()) {
      const known = this.peers.get(listing.party);
      const fresh = !known;
      const peer = known ?? new Peer(this, listing.party, this.videoFor());
      if (fresh) this.peers.set(listing.party, peer);
      // A pair on hold keeps its connection; its senders carry nothing. A
      // peer who sends nothing to this page (a silent supervisor) is not
      // shown.
      peer.sends = listing.send;
      peer.forward = !!listing.forward;
      peer.forwarded = !!listing.forwarded;
      peer.video.hidden = !listing.shown;
      if (peer.relayVideo) peer.relayVideo.hidden = !peer.forwarded;
      if (fresh) {
        if (this.noMedia) peer.send({ type: 'no-media', reason: this.noMedia });
        // The offering side asks for a (re)start; the other says it is ready.
        peer.send(peer.offerer ? { type: 'call' } : { type: 'ready' });
      } else {
        await peer.applyTracks();
      }
    }
  }

  /** @param {PeersMessage | Received} message */
  async receive(message) {
    if (this.closed) return;
    if (message.type === 'peers') return this.meet(message);
    const peer = this.peers.get(message.from);
    if (!peer) return;
    switch (message.type) {
      case 'call':
        if (!peer.offerer) {
          await this.acquire();
          // A page that opened after we told it gets told again.
          if (this.noMedia) peer.send({ type: 'no-media', reason: this.noMedia });
          peer.send({ type: 'ready' });
        }
        break;
      case 'ready':
        if (peer.offerer) await peer.offer();
        break;
      case 'offer':
        if (!peer.offerer) await peer.answer(message);
        break;
      case 'answer':
        if (peer.offerer && peer.pc && message.gen === peer.gen) {
          await peer.pc.setRemoteDescription(message.sdp);
          await peer.flush();
        }
        break;
      case 'candidate':
        if (peer.pc && message.gen === peer.gen) {
          if (peer.pc.remoteDescription) await peer.pc.addIceCandidate(message.candidate);
          else peer.pending.push(message.candidate);
        }
        break;
      case 'no-media':
        this.emit('peer-no-media', message.reason ?? '');
        break;
    }
  }

  /** Reports when a peer's media arrives, and (on a desk) when the
   * customer's has not within 5 s.
   * @param {Peer} peer
   * @param {RTCPeerConnection} pc */
  watch(peer, pc) {
    const started = performance.now();
    let arrived = false;
    let warned = false;
    const timer = setInterval(async () => {
      if (peer.pc !== pc || this.closed) return clearInterval(timer);
      const bytes = await this.inboundBytes(pc);
      if (bytes > 0 && !arrived) {
        arrived = true;
        this.emit('remote-media');
      }
      if (arrived) return clearInterval(timer);
      const customer = this.agent && peer.party === CUSTOMER;
      if (customer && !warned && !this.held && performance.now() - started >= MEDIA_DEADLINE_MS) {
        warned = true;
        this.emit('no-remote-media');
      }
    }, 500);
  }

  /** @param {RTCPeerConnection} pc */
  async inboundBytes(pc) {
    let bytes = 0;
    try {
      (await pc.getStats()).forEach((/** @type {{ type: string, bytesReceived?: number }} */ report) => {
        if (report.type === 'inbound-rtp') bytes += report.bytesReceived ?? 0;
      });
    } catch {
      // A closed connection has no stats.
    }
    return bytes;
  }

  /** @param {boolean} held */
  hold(held) {
    this.held = held;
    this.chain = this.chain
      .then(() => Promise.all([...this.peers.values()].map((peer) => peer.applyTracks())))
      .catch((error) => console.error('hold', error));
  }

  /** @param {boolean} muted */
  setMuted(muted) {
    this.muted = muted;
    this.stream?.getAudioTracks().forEach((track) => (track.enabled = !muted));
  }

  /** @param {boolean} off */
  setCameraOff(off) {
    this.cameraOff = off;
    this.stream?.getVideoTracks().forEach((track) => (track.enabled = !off));
  }

  /** The representative tries again: a new connection with the customer. */
  retry() {
    const peer = this.peers.get(CUSTOMER);
    if (!peer) return;
    this.chain = this.chain.then(() => peer.offer()).catch((error) => console.error('retry', error));
  }

  close() {
    this.closed = true;
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    this.ws?.close();
    this.stream?.getTracks().forEach((track) => track.stop());
    if (calls.get(this.session) === this) calls.delete(this.session);
  }
}
