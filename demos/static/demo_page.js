// Wires the browser clients to this page's Python code: one object per demo, each reporting back with
// emitEvent('demo_…', payload), which the page receives with ui.on('demo_…', handler).
'use strict';

window.wsDemo = window.wsDemo || {};

wsDemo.setUpPage = ({ echoPort, session, pollIntervalMs }) => {
  wsDemo.comparison?.stop();
  wsDemo.echoConsole?.disconnect();
  wsDemo.comparison = new wsDemo.LiveComparison({ echoPort, session, pollIntervalMs });
  wsDemo.echoConsole = new wsDemo.EchoConsole({
    echoUrl: wsDemo.comparison.urls.echo,
    report: (entry) => emitEvent('demo_console', entry),
  });
  wsDemo.breakIt = new wsDemo.BreakIt({
    console: wsDemo.echoConsole, echoUrl: wsDemo.comparison.urls.echo, report: (kind, payload) => emitEvent(kind, payload),
  });
  emitEvent('demo_urls', wsDemo.comparison.urls);
  wsDemo.reportMotionPreference();
};

wsDemo.runLessonCodeOnPage = (source, message) => wsDemo.runLessonCode({
  source, message, echoUrl: wsDemo.comparison.urls.echo, report: (entry) => emitEvent('demo_lesson_code', entry),
});
