// WebSocket push: one connection, opened once; the server sends each update the moment it is made.
// If the connection drops, try again with exponential backoff until the server is back.
'use strict';

window.wsDemo = window.wsDemo || {};

wsDemo.PushClient = class PushClient {
  constructor({ pushUrl, clock, onUpdate, onStatus }) {
    this.pushUrl = pushUrl;
    this.clock = clock;
    this.onUpdate = onUpdate;
    this.onStatus = onStatus;
    this.reconnector = new wsDemo.Reconnector(() => this.open());
    this.socket = null;
    this.wanted = false;
    this.framesSent = 0;
    this.framesReceived = 0;
    this.connectionsOpened = 0;
  }

  connect() {
    this.wanted = true;
    this.open();
  }

  open() {
    const socket = new WebSocket(this.pushUrl);
    this.socket = socket;
    this.onStatus({ state: 'connecting' });
    socket.onopen = () => {
      this.reconnector.opened();
      this.connectionsOpened += 1;
      this.onStatus({ state: 'open', extensions: socket.extensions });
      this.framesSent += this.clock.askOverWebSocket(socket);
    };
    socket.onmessage = (event) => {
      const receivedAt = wsDemo.now();
      this.framesReceived += 1;
      const message = JSON.parse(event.data);
      if (message.type === 'update') this.onUpdate(message, receivedAt);
      else if (message.type === 'clock') {
        this.clock.addExchange(message.client_sent, message.server_time, receivedAt, 'push socket');
      }
    };
    socket.onerror = () => this.onStatus({ state: 'error' });
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.onStatus({ state: 'closed', code: event.code, reason: event.reason, clean: event.wasClean });
      if (!this.wanted) return;
      this.onStatus({ state: 'reconnecting', ...this.reconnector.retry() });
    };
  }

  disconnect() {
    this.wanted = false;
    this.reconnector.cancel();
    this.socket?.close(1000, 'demo stopped');
  }

  get isOpen() {
    return this.socket?.readyState === WebSocket.OPEN;
  }
};
