// NTP-style clock comparison with the echo server. One exchange: the browser notes t0 (its clock), the
// server answers with its time ts, the browser notes t3. The lanes panel turns the exchanges into an offset in
// the browser (wsDemo.estimateClockOffset in figures.js: the exchange with the shortest round trip wins), so
// delays stay right when the server and the browser are different machines with different clocks.
'use strict';

window.wsDemo = window.wsDemo || {};

wsDemo.ClockSync = class ClockSync {
  constructor() {
    this.exchanges = [];  // [client_sent, server_time, client_received, via]
    this.unreported = [];
  }

  addExchange(clientSent, serverTime, clientReceived, via) {
    const exchange = [clientSent, serverTime, clientReceived, via];
    this.exchanges.push(exchange);
    this.unreported.push(exchange);
  }

  takeUnreported() {
    const taken = this.unreported;
    this.unreported = [];
    return taken;
  }

  // Over HTTP each exchange is a fresh TCP connection whose set-up lengthens only the first leg, so
  // the push socket gives the better estimate; this is the fallback when it is not open.
  async overHttp(clockUrl, count = 5) {
    for (let i = 0; i < count; i += 1) {
      const clientSent = wsDemo.now();
      const response = await fetch(clockUrl, { cache: 'no-store' });
      const body = await response.json();
      this.addExchange(clientSent, body.server_time, wsDemo.now(), 'GET /clock');
    }
  }

  // Answers come back through the socket's onmessage; its owner passes them to addExchange.
  askOverWebSocket(socket, count = 5, spacingMs = 30) {
    for (let i = 0; i < count; i += 1) {
      setTimeout(() => {
        if (socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify({ type: 'clock', client_sent: wsDemo.now() }));
        }
      }, i * spacingMs);
    }
    return count;
  }
};
