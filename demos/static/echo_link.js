// How the browser reaches the embedded echo server: its addresses, the browser's clock, and reconnecting politely.
'use strict';

window.wsDemo = window.wsDemo || {};

// `echo` is the echo server's port, reached at the same host the page came from (so a class served on a LAN
// address or over TLS reaches it too), or, behind a proxy (--public-echo-url), its public address: a path on the
// page's own origin ('/echo-server', one port for everything) or an absolute ws:// or wss:// URL.
wsDemo.echoUrl = (kind, echo, path, params = {}) => {
  const query = new URLSearchParams(params).toString();
  const tail = `${path}${query ? '?' + query : ''}`;
  if (typeof echo === 'string' && !/^\d+$/.test(echo)) {
    const base = new URL(echo, location.href);  // a path resolves against the page's own origin
    const secure = base.protocol === 'https:' || base.protocol === 'wss:';
    const scheme = kind === 'ws' ? (secure ? 'wss:' : 'ws:') : (secure ? 'https:' : 'http:');
    return `${scheme}//${base.host}${base.pathname.replace(/\/$/, '')}${tail}`;
  }
  const secure = location.protocol === 'https:';
  const scheme = kind === 'ws' ? (secure ? 'wss:' : 'ws:') : location.protocol;
  return `${scheme}//${location.hostname}:${echo}${tail}`;
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

// Reconnecting after a connection the page still wants was lost: the next attempt after the next pause of the
// backoff. One object per socket; `opened()` starts the pauses again from the shortest.
wsDemo.Reconnector = class Reconnector {
  constructor(open) {
    this.open = open;
    this.backoff = new wsDemo.Backoff();
    this.timer = null;
  }

  // Schedules the next attempt; returns what to tell the learner: { delay_ms, attempt }.
  retry() {
    const delayMs = this.backoff.next();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.open(), delayMs);
    return { delay_ms: delayMs, attempt: this.backoff.attempt };
  }

  opened() {
    this.backoff.reset();
  }

  cancel() {
    clearTimeout(this.timer);
  }
};
