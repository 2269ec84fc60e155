// Server-Sent Events: one HTTP response that never ends; the server writes each update into it as an event
// (`id: SEQ`, `data: {...}`) the moment it is made. One-way: the browser cannot send anything back on it.
// EventSource reconnects by itself when the stream breaks, sending `Last-Event-ID` so nothing is missed.
'use strict';

window.wsDemo = window.wsDemo || {};

wsDemo.SseClient = class SseClient {
  constructor({ sseUrl, onUpdate, onStatus }) {
    this.sseUrl = sseUrl;
    this.onUpdate = onUpdate;
    this.onStatus = onStatus;
    this.source = null;
    this.lastSeq = null;
    this.requests = 0;  // each stream is one HTTP request (the browser's own reconnections included)
    this.connectionsOpened = 0;
    this.reconnects = 0;
  }

  connect() {
    if (this.source) return;
    // A new stream after Stop picks up where the last one ended; EventSource's own retries do the same.
    const url = this.lastSeq === null ? this.sseUrl : `${this.sseUrl}&after=${this.lastSeq}`;
    const source = new EventSource(url);
    this.source = source;
    this.requests += 1;
    this.onStatus({ state: 'connecting' });
    let opened = false;
    source.onopen = () => {
      if (opened) this.requests += 1;  // EventSource reconnected on its own: a new request
      opened = true;
      this.connectionsOpened += 1;
      this.onStatus({ state: 'open' });
    };
    source.onmessage = (event) => {
      const receivedAt = wsDemo.now();
      const message = JSON.parse(event.data);
      if (message.type !== 'update') return;
      this.lastSeq = message.seq;
      this.onUpdate(message, receivedAt);
    };
    source.onerror = () => {
      if (this.source !== source) return;
      if (source.readyState === EventSource.CONNECTING) {
        this.reconnects += 1;
        this.onStatus({ state: 'reconnecting' });
      } else {
        this.onStatus({ state: 'closed' });
      }
    };
  }

  disconnect() {
    if (!this.source) return;
    this.source.close();
    this.source = null;
    this.onStatus({ state: 'stopped' });  // close() fires no event of its own: say so, or the lane would look open
  }

  // After the page resets the feed, numbering starts again from 1.
  forget() {
    this.lastSeq = null;
  }

  get isOpen() {
    return this.source?.readyState === EventSource.OPEN;
  }
};
