// The echo console: the lesson's sequence diagram, made live. Every event of one WebSocket to /echo is
// reported to the page (which shows it as text, never as HTML) together with the socket's readyState.
'use strict';

window.wsDemo = window.wsDemo || {};

wsDemo.READY_STATES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'];

// Long messages are logged by their start and size: the page's own connection need not carry 64 KiB twice.
wsDemo.shortText = (text, keep = 200) => (text.length <= keep ? text
  : `${text.slice(0, keep)}… (${text.length.toLocaleString('en')} characters in all)`);

wsDemo.EchoConsole = class EchoConsole {
  constructor({ echoUrl, report }) {
    this.echoUrl = echoUrl;
    this.report = report;
    this.reconnector = new wsDemo.Reconnector(() => this.open());
    this.socket = null;
    this.wanted = false;
    this.waitingToSend = [];  // texts to send once the socket is open
    this.quietEchoes = 0;  // echoes of a burst, logged once all came back instead of one by one
  }

  note(kind, details = {}) {
    const readyState = this.socket ? this.socket.readyState : WebSocket.CLOSED;
    this.report({ kind, at: wsDemo.now(), ready_state: wsDemo.READY_STATES[readyState], ...details });
  }

  connect() {
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) return;
    this.wanted = true;
    this.reconnector.cancel();
    this.open();
  }

  open() {
    const socket = new WebSocket(this.echoUrl);
    this.socket = socket;
    this.note('connecting', { url: this.echoUrl });
    socket.onopen = () => {
      this.reconnector.opened();
      this.note('open', { extensions: socket.extensions, protocol: socket.protocol });
      for (const text of this.waitingToSend.splice(0)) this.send(text);
    };
    socket.onmessage = (event) => {
      if (this.quietEchoes > 0) {
        this.quietEchoes -= 1;
        if (this.quietEchoes === 0) this.note('received', { text: '[every echo of the burst is back]' });
        return;
      }
      const text = typeof event.data === 'string' ? event.data : `[binary, ${event.data.size} bytes]`;
      this.note('received', { text: wsDemo.shortText(text) });
    };
    socket.onerror = () => this.note('error', { text: 'the connection failed or broke (the browser gives no detail)' });
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.note('close', { code: event.code, reason: event.reason, clean: event.wasClean });
      if (!this.wanted) return;
      this.note('reconnecting', this.reconnector.retry());
    };
  }

  send(text) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) {
      this.note('error', { text: 'not sent: the socket is not open (press Connect first)' });
      return;
    }
    this.socket.send(text);
    this.note('sent', { text: wsDemo.shortText(text) });
  }

  // Connect first if needed (the frame buttons work from a closed console too).
  sendWhenOpen(text) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.send(text);
      return;
    }
    this.waitingToSend.push(text);
    this.connect();
  }

  // A message of exactly `size` bytes (ASCII, so characters are bytes): 125, 126 and 65,536 show the three
  // ways a frame header can give a payload's length.
  sendSized(size) {
    const pattern = `${size} bytes of echo. `;
    this.sendWhenOpen(pattern.repeat(Math.ceil(size / pattern.length)).slice(0, size));
  }

  disconnect() {
    this.wanted = false;
    this.waitingToSend = [];
    this.reconnector.cancel();
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) {
      this.socket.close(1000, 'Bye from the echo console');
      this.note('closing', { code: 1000, reason: 'Bye from the echo console' });
    }
  }
};
