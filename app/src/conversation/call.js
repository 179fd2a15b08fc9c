// The media of one conversation: a WebRTC peer connection between the
// customer's and the representative's browsers. The server only relays the
// signaling (offers, answers, ICE candidates) over /ws/signal to the other
// side of the same help session.
//
// The representative's page makes the offers; the customer's answers. Every
// (re)start of the call has a new generation id, so a page that reloads or
// retries starts a clean connection and late messages of an old one are
// ignored. Hold really stops media: every sender's track is replaced with
// none (bytes stop, no renegotiation); resume puts the tracks back.
//
// The pages' Rust (media.rs) builds one Call per conversation and is told
// what happens through `onEvent(kind, detail)`. Tests and the benchmark
// reach the peer connections through `window.switchboardCalls`.

const calls = (window.switchboardCalls ??= new Map());

/** Seconds after which missing media from the other side is reported. */
const MEDIA_DEADLINE_MS = 5000;

function newGeneration() {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export class Call {
  constructor(config, localVideo, remoteVideo, onEvent) {
    const c = JSON.parse(config);
    this.session = c.session;
    this.agent = c.side === 'agent';
    this.wantVideo = !!c.video;
    this.iceServers = c.iceServers ?? [];
    this.localVideo = localVideo;
    this.remoteVideo = remoteVideo;
    this.onEvent = onEvent;
    this.held = !!c.held;
    this.muted = false;
    this.cameraOff = false;
    this.closed = false;
    this.gen = null;
    this.pc = null;
    this.pending = [];
    this.outbox = [];
    this.stream = null;
    this.chain = Promise.resolve();
    calls.set(this.session, this);
    this.start();
  }

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
    if (this.stream || this.closed) return;
    const what = this.wantVideo ? 'camera or microphone' : 'microphone';
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: this.wantVideo });
      this.localVideo.srcObject = this.stream;
      this.setMuted(this.muted);
      this.setCameraOff(this.cameraOff);
      this.emit('local-media');
    } catch (error) {
      this.stream = null;
      const name = error?.name;
      const reason =
        name === 'NotAllowedError' || name === 'SecurityError'
          ? `Your ${what} is blocked in this browser`
          : name === 'NotFoundError' || name === 'OverconstrainedError'
            ? `No ${what} was found`
            : `Your ${what} could not be started`;
      this.emit('local-media-error', `${reason}. The conversation goes on by chat below.`);
      this.send({ type: 'no-media', reason });
    }
  }

  connect() {
    if (this.closed) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ws/signal?session=${this.session}`);
    this.ws = ws;
    ws.onopen = () => {
      for (const message of this.outbox.splice(0)) ws.send(JSON.stringify(message));
      // The representative asks for a (re)start; the customer says it is ready.
      this.send(this.agent ? { type: 'call' } : { type: 'ready' });
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

  send(message) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
    else this.outbox.push(message);
  }

  async receive(message) {
    if (this.closed) return;
    switch (message.type) {
      case 'call':
        if (!this.agent) {
          await this.acquire();
          this.send({ type: 'ready' });
        }
        break;
      case 'ready':
        if (this.agent) await this.offer();
        break;
      case 'offer':
        if (!this.agent) await this.answer(message);
        break;
      case 'answer':
        if (this.agent && this.pc && message.gen === this.gen) {
          await this.pc.setRemoteDescription(message.sdp);
          await this.flush();
        }
        break;
      case 'candidate':
        if (this.pc && message.gen === this.gen) {
          if (this.pc.remoteDescription) await this.pc.addIceCandidate(message.candidate);
          else this.pending.push(message.candidate);
        }
        break;
      case 'no-media':
        this.emit('peer-no-media', message.reason ?? '');
        break;
    }
  }

  async flush() {
    for (const candidate of this.pending.splice(0)) await this.pc.addIceCandidate(candidate);
  }

  /** A new peer connection for generation `gen`, replacing any other. */
  newPeer(gen) {
    this.pc?.close();
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    this.gen = gen;
    this.pending = [];
    const remote = new MediaStream();
    this.remoteVideo.srcObject = remote;
    pc.onicecandidate = (event) => {
      if (event.candidate && this.pc === pc) this.send({ type: 'candidate', gen, candidate: event.candidate.toJSON() });
    };
    pc.ontrack = (event) => {
      if (this.pc !== pc) return;
      remote.addTrack(event.track);
      this.remoteVideo.srcObject = remote;
      this.remoteVideo.play?.().catch(() => {});
    };
    this.watch(pc);
    return pc;
  }

  /** The representative (re)starts the call with a new offer. */
  async offer() {
    await this.acquire();
    const pc = this.newPeer(newGeneration());
    const gen = this.gen;
    for (const kind of this.wantVideo ? ['audio', 'video'] : ['audio']) {
      pc.addTransceiver(kind, { direction: 'sendrecv' });
    }
    await this.applyTracks();
    await pc.setLocalDescription(await pc.createOffer());
    this.send({ type: 'offer', gen, sdp: pc.localDescription.toJSON() });
  }

  /** The customer answers an offer (a new generation: a new connection). */
  async answer(message) {
    await this.acquire();
    let pc = this.pc;
    if (!pc || message.gen !== this.gen) pc = this.newPeer(message.gen);
    await pc.setRemoteDescription(message.sdp);
    for (const transceiver of pc.getTransceivers()) transceiver.direction = 'sendrecv';
    await this.applyTracks();
    await pc.setLocalDescription(await pc.createAnswer());
    this.send({ type: 'answer', gen: message.gen, sdp: pc.localDescription.toJSON() });
    await this.flush();
  }

  /** Puts the local tracks on the senders, or none while on hold. */
  async applyTracks() {
    if (!this.pc) return;
    for (const transceiver of this.pc.getTransceivers()) {
      if (transceiver.stopped || transceiver.currentDirection === 'stopped') continue;
      const kind = transceiver.receiver.track.kind;
      const track = this.held ? null : (this.stream?.getTracks().find((t) => t.kind === kind) ?? null);
      if (transceiver.sender.track !== track) await transceiver.sender.replaceTrack(track);
    }
  }

  /** Reports when the other side's media arrives, and (on the
   * representative's side) when it has not within 5 s. */
  watch(pc) {
    const started = performance.now();
    let arrived = false;
    let warned = false;
    const timer = setInterval(async () => {
      if (this.pc !== pc || this.closed) return clearInterval(timer);
      const bytes = await this.inboundBytes(pc);
      if (bytes > 0 && !arrived) {
        arrived = true;
        this.emit('remote-media');
      }
      if (arrived) return clearInterval(timer);
      if (this.agent && !warned && !this.held && performance.now() - started >= MEDIA_DEADLINE_MS) {
        warned = true;
        this.emit('no-remote-media');
      }
    }, 500);
  }

  async inboundBytes(pc) {
    let bytes = 0;
    try {
      (await pc.getStats()).forEach((report) => {
        if (report.type === 'inbound-rtp') bytes += report.bytesReceived ?? 0;
      });
    } catch {
      // A closed connection has no stats.
    }
    return bytes;
  }

  hold(held) {
    this.held = held;
    this.chain = this.chain.then(() => this.applyTracks()).catch((error) => console.error('hold', error));
  }

  setMuted(muted) {
    this.muted = muted;
    this.stream?.getAudioTracks().forEach((track) => (track.enabled = !muted));
  }

  setCameraOff(off) {
    this.cameraOff = off;
    this.stream?.getVideoTracks().forEach((track) => (track.enabled = !off));
  }

  /** The representative tries again: a new connection. */
  retry() {
    this.chain = this.chain.then(() => this.offer()).catch((error) => console.error('retry', error));
  }

  close() {
    this.closed = true;
    this.pc?.close();
    this.pc = null;
    this.ws?.close();
    this.stream?.getTracks().forEach((track) => track.stop());
    if (calls.get(this.session) === this) calls.delete(this.session);
  }
}
