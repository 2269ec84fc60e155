// How the browser reaches the embedded echo server: its addresses, the browser's clock, and reconnecting politely.
'use strict';

window.wsDemo = window.wsDemo || {};

// Same host the page came from, so a class served on a LAN address or over TLS reaches the echo server too.
wsDemo.echoUrl = (kind, port, path, params = {}) => {
  const secure = location.protocol === 'https:';
  const scheme = kind === 'ws' ? (secure ? 'wss:' : 'ws:') : location.protocol;
  const query = new URLSearchParams(params).toString();
  return `${scheme}//${location.hostname}:${port}${path}${query ? '?' + query : ''}`;
};

// Milliseconds since the Unix epoch, with sub-millisecond resolution and no jumps when the wall clock is set.
wsDemo.now = () => performance.timeOrigin + performance.now();

// Wait 0.25 s, 0.5 s, 1 s, ... up to 8 s between attempts, with jitter, so thirty reconnecting learners
// do not hit a restarted server in the same millisecond.
wsDemo.Backoff = class Backoff {
  constructor(firstMs = 250, maxMs = 8000) {
    this.firstMs = firstMs;
    this.maxMs = maxMs;
    this.attempt = 0;
  }

  next() {
    const ceiling = Math.min(this.maxMs, this.firstMs * 2 ** this.attempt);
    this.attempt += 1;
    return Math.round(ceiling / 2 + Math.random() * ceiling / 2);
  }

  reset() {
    this.attempt = 0;
  }
};
