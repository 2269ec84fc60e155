// One demo page, one session: the addresses of the echo server's endpoints, the page's inspection stream (what
// only the server sees: bytes as its sockets counted them, frames as it read them, the handshake as it arrived),
// the echo console everyone shares, and a small event bus the panels talk over. Nothing here goes through the page
// server: every figure on the page is computed in this browser from its own sockets and this stream.
'use strict';

window.wsDemo = window.wsDemo || {};

// Message types whose latest value a panel mounted later still needs.
wsDemo.REPLAYED = new Set(['counts', 'handshake', 'inspector']);

wsDemo.Hub = class Hub {
  constructor({ echoPort, session }) {
    this.session = session;
    const params = { session };
    this.urls = {
      poll: wsDemo.echoUrl('http', echoPort, '/poll', params),
      longpoll: wsDemo.echoUrl('http', echoPort, '/longpoll', params),
      sse: wsDemo.echoUrl('http', echoPort, '/sse', params),
      push: wsDemo.echoUrl('ws', echoPort, '/push', params),
      clock: wsDemo.echoUrl('http', echoPort, '/clock'),
      echo: wsDemo.echoUrl('ws', echoPort, '/echo', params),
      inspect: wsDemo.echoUrl('ws', echoPort, '/inspect', params),
    };
    this.handlers = new Map();
    this.latest = new Map();
    this.nextId = 1;
    this.pending = new Map();  // command id -> resolve
    this.unsent = [];          // commands given before the stream was open: sent the moment it is
    this.reconnector = new wsDemo.Reconnector(() => this.connect());
    this.socket = null;
    this.console = new wsDemo.EchoConsole({ echoUrl: this.urls.echo, report: (entry) => this.emit('console', entry) });
    this.connect();
  }

  // Subscribe to a message type; returns the function that unsubscribes.
  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(handler);
    if (wsDemo.REPLAYED.has(type) && this.latest.has(type)) handler(this.latest.get(type));
    return () => this.handlers.get(type).delete(handler);
  }

  emit(type, message) {
    if (wsDemo.REPLAYED.has(type)) this.latest.set(type, message);
    for (const handler of this.handlers.get(type) || []) {
      try {
        handler(message);
      } catch (error) {
        console.error(`wsDemo: a ${type} handler failed`, error);
      }
    }
  }

  connect() {
    const socket = new WebSocket(this.urls.inspect);
    this.socket = socket;
    socket.onopen = () => {
      this.reconnector.opened();
      this.emit('inspector', { state: 'open' });
      for (const text of this.unsent.splice(0)) socket.send(text);
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === 'reply' && this.pending.has(message.id)) {
        this.pending.get(message.id)(message);
        this.pending.delete(message.id);
      }
      this.emit(message.type, message);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      const { delay_ms: retryMs } = this.reconnector.retry();
      this.emit('inspector', { state: 'closed', code: event.code, reason: event.reason, retry_ms: retryMs });
    };
  }

  get isOpen() {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  // Ask the echo server to act on this page's session, e.g. command('start', { rate_per_s: 5 }). Resolves with
  // the server's reply ({ ok, error?, ... }); a command given while the stream is reconnecting waits for it.
  command(action, args = {}) {
    const id = this.nextId++;
    const text = JSON.stringify({ id, do: action, ...args });
    const reply = new Promise((resolve) => this.pending.set(id, resolve));
    if (this.isOpen) this.socket.send(text);
    else this.unsent.push(text);
    return reply;
  }

  close() {
    const socket = this.socket;
    this.socket = null;
    this.reconnector.cancel();
    socket?.close(1000, 'page closed');
    this.console.disconnect();
  }
};

// The page's hub, made by the first panel that needs it.
wsDemo.hubFor = ({ echoPort, session }) => {
  if (!wsDemo.hub || wsDemo.hub.session !== session) {
    wsDemo.hub?.close();
    wsDemo.hub = new wsDemo.Hub({ echoPort, session });
  }
  return wsDemo.hub;
};

// Charts and animations follow the learner's "reduce motion" setting.
wsDemo.reducedMotion = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;

// A log that follows its newest entry unless the reader scrolled up (then it says how many newer ones wait below).
wsDemo.followLog = (element) => {
  if (!element) return { atBottom: true, scroll: () => {} };
  const atBottom = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
  return { atBottom, scroll: () => { element.scrollTop = element.scrollHeight; } };
};
