// Run the lesson's own snippet in this page. The only change to its text is the address: the first
// ws:// or wss:// string literal becomes the embedded echo server's. It runs with a `console` whose log
// lines are shown on the page, and with the browser's real WebSocket (a subclass that only remembers the
// socket, so the runner can send one message and close it: the snippet itself never sends or closes).
'use strict';

window.wsDemo = window.wsDemo || {};

wsDemo.ADDRESS_LITERAL = /(['"`])wss?:\/\/[^'"`]*\1/;

wsDemo.withEchoAddress = (source, echoUrl) => source.replace(wsDemo.ADDRESS_LITERAL, `'${echoUrl}'`);

wsDemo.runLessonCode = ({ source, echoUrl, message, closeAfterMs = 600, report }) => {
  const runnable = wsDemo.withEchoAddress(source, echoUrl);
  const sockets = [];
  const format = (value) => (typeof value === 'string' ? value : JSON.stringify(value));
  const console = {
    log: (...values) => report({ kind: 'log', at: wsDemo.now(), text: values.map(format).join(' ') }),
  };
  class RememberedWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      sockets.push(this);
    }
  }
  report({ kind: 'source', at: wsDemo.now(), text: runnable });
  try {
    new Function('WebSocket', 'console', runnable)(RememberedWebSocket, console);
  } catch (error) {
    report({ kind: 'error', at: wsDemo.now(), text: `${error.name}: ${error.message}` });
    return;
  }
  // addEventListener, not onopen/onmessage: the snippet's own handlers stay exactly as written.
  for (const socket of sockets) {
    socket.addEventListener('open', () => socket.send(message));
    socket.addEventListener('message', () => setTimeout(() => socket.close(1000, 'lesson code done'), closeAfterMs));
    socket.addEventListener('close', (event) => report({ kind: 'done', at: wsDemo.now(), code: event.code }));
  }
};
