// Break it and watch: what the page does in the browser for the break-it controls. Closing, dropping and pinging
// are done by the server (the page's Python code calls it in-process); the browser's side is plain WebSocket
// behaviour, seen in the echo console. Two experiments need the browser to act:
// - back-pressure: a burst of sends while the server is not reading, with `bufferedAmount` sampled as it grows
//   and drains;
// - compression: the same messages over a connection without and one with permessage-deflate (`&deflate=0/1`),
//   so the frame log can count the bytes each took on the wire.
'use strict';

window.wsDemo = window.wsDemo || {};

wsDemo.BreakIt = class BreakIt {
  constructor({ console, echoUrl, report }) {
    this.console = console;
    this.echoUrl = echoUrl;
    this.report = report;  // (kind, payload) => emitEvent(...)
  }

  // Send `count` messages of `size` bytes at once and sample bufferedAmount until it is back to 0. Keep
  // `count` within the server's burst allowance (100 messages), or it closes the connection with 1008.
  burst({ count, size, sampleMs = 50, flushMs = 250, maxMs = 20000 }) {
    const socket = this.console.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      this.report('demo_backpressure', { error: 'the echo console is not connected', done: true });
      return;
    }
    const message = 'x'.repeat(size);
    const startedAt = wsDemo.now();
    let samples = [[0, socket.bufferedAmount]];
    this.console.quietEchoes += count;
    for (let i = 0; i < count; i += 1) socket.send(message);
    this.console.note('sent', { text: `[a burst of ${count} messages of ${size.toLocaleString('en')} bytes]` });
    samples.push([wsDemo.now() - startedAt, socket.bufferedAmount]);
    let lastFlush = wsDemo.now();
    const timer = setInterval(() => {
      const elapsed = wsDemo.now() - startedAt;
      samples.push([elapsed, socket.bufferedAmount]);
      const done = (socket.bufferedAmount === 0 && elapsed > 500) || elapsed > maxMs
        || socket.readyState !== WebSocket.OPEN;
      if (done || wsDemo.now() - lastFlush >= flushMs) {
        this.report('demo_backpressure', { samples, done });
        samples = [];
        lastFlush = wsDemo.now();
      }
      if (done) clearInterval(timer);
    }, sampleMs);
  }

  // One connection without compression, then one with it, each sending the same messages and waiting for
  // their echoes. Each closes with a reason naming its setting, so the frame log tells the two apart.
  async compareCompression(messages) {
    const runs = [];
    for (const deflate of [0, 1]) {
      try {
        runs.push(await this.exchange(deflate, messages));
      } catch (error) {
        runs.push({ deflate, error: String(error.message || error) });
      }
    }
    this.report('demo_compression', { runs });
  }

  exchange(deflate, messages) {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${this.echoUrl}&deflate=${deflate}`);
      const reason = `compression ${deflate ? 'on' : 'off'}`;
      let echoes = 0;
      let extensions = '';
      socket.onopen = () => {
        extensions = socket.extensions;
        for (const text of messages) socket.send(text);
      };
      socket.onmessage = () => {
        echoes += 1;
        if (echoes === messages.length) socket.close(1000, reason);
      };
      socket.onerror = () => reject(new Error('the connection failed'));
      socket.onclose = (event) => resolve({ deflate, reason, extensions, echoes, clean: event.wasClean });
    });
  }
};

// Charts and animations follow the learner's "reduce motion" setting; the page is told once and on change.
wsDemo.reportMotionPreference = () => {
  const query = window.matchMedia('(prefers-reduced-motion: reduce)');
  const report = () => emitEvent('demo_motion', { reduced: query.matches });
  query.addEventListener('change', report);
  report();
};
