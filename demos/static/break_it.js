// Break it and watch: what the browser does for the break-it controls. Closing, dropping, pinging and pausing
// are done by the server (the page asks over its inspection stream); the browser's side of those is plain
// WebSocket behaviour, seen in the echo console. Two experiments need the browser to act:
// - back-pressure: a burst of sends while the server is not reading, with `bufferedAmount` sampled as it grows
//   and drains;
// - compression: the same messages over a connection without and one with permessage-deflate (`&deflate=0/1`),
//   so the frame log can count the bytes each took on the wire.
// Both tell the panel what happened through callbacks: this file only uses sockets.
'use strict';

window.wsDemo = window.wsDemo || {};

wsDemo.BreakIt = class BreakIt {
  constructor({ console, echoUrl }) {
    this.console = console;
    this.echoUrl = echoUrl;
  }

  // Send `count` messages of `size` bytes at once and sample bufferedAmount until it is back to 0. `report` gets
  // `{ samples: [[ms since the burst, bufferedAmount], ...], done, error? }` at most every `flushMs`, so a chart
  // redraws a few times a second, not at every sample. Keep `count` within the server's burst allowance (100
  // messages), or it closes the connection with 1008. `note` is what the echo console logs for the burst.
  burst({ count, size, note, report, sampleMs = 50, flushMs = 250, maxMs = 20000 }) {
    const socket = this.console.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      report({ samples: [], done: true, error: 'the echo console is not connected' });
      return;
    }
    const message = 'x'.repeat(size);
    const startedAt = wsDemo.now();
    let samples = [[0, socket.bufferedAmount]];
    this.console.quietEchoes += count;
    for (let i = 0; i < count; i += 1) socket.send(message);
    this.console.note('sent', { text: note });
    samples.push([wsDemo.now() - startedAt, socket.bufferedAmount]);
    let lastFlush = wsDemo.now();
    const timer = setInterval(() => {
      const elapsed = wsDemo.now() - startedAt;
      samples.push([elapsed, socket.bufferedAmount]);
      const done = (socket.bufferedAmount === 0 && elapsed > 500) || elapsed > maxMs
        || socket.readyState !== WebSocket.OPEN;
      if (done || wsDemo.now() - lastFlush >= flushMs) {
        report({ samples, done, startedAt });
        samples = [];
        lastFlush = wsDemo.now();
      }
      if (done) clearInterval(timer);
    }, sampleMs);
  }

  // One connection without compression, then one with it, each sending the same messages and waiting for their
  // echoes. Each closes with a reason naming its setting, so the frame log tells the two apart. Resolves with
  // one run per setting: `{ deflate, reason, extensions, echoes, clean }` or `{ deflate, error }`.
  async compareCompression(messages) {
    const runs = [];
    for (const deflate of [0, 1]) {
      try {
        runs.push(await this.exchange(deflate, messages));
      } catch (error) {
        runs.push({ deflate, reason: `compression ${deflate ? 'on' : 'off'}`, error: String(error.message || error) });
      }
    }
    return runs;
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

// Bytes of data frames in each direction on the newest connection that the browser closed with `reason`, from
// frame-log entries (demos/server/frame_log.py): what the server read and wrote, headers included. null when that
// connection's frames are not (yet) among `entries`.
wsDemo.wireBytes = (entries, reason) => {
  const byConnection = new Map();
  for (const entry of entries) {
    if (!byConnection.has(entry.connection)) byConnection.set(entry.connection, []);
    byConnection.get(entry.connection).push(entry);
  }
  let found = null;
  for (const frames of byConnection.values()) {
    if (frames.some((frame) => frame.close_reason === reason && frame.direction === 'client→server')) found = frames;
  }
  if (found === null) return null;
  const data = found.filter((frame) => ['text', 'binary', 'continuation'].includes(frame.opcode_name));
  const sum = (direction) => data.filter((f) => f.direction === direction).reduce((total, f) => total + f.frame_size, 0);
  return {
    out: sum('client→server'),
    in: sum('server→client'),
    messages: data.filter((f) => f.direction === 'client→server' && f.fin).length,
    compressed: data.some((f) => f.rsv1) ? 1 : 0,
  };
};
