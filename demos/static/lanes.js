// The comparison: one HTTP poller and one push socket on the same session's feed, timing every update they
// receive and handing the raw samples to the page's Python code a few times a second (which computes the
// statistics and draws the chart). Samples are [seq, made_at (server clock), received_at (browser clock)].
'use strict';

window.wsDemo = window.wsDemo || {};

wsDemo.LiveComparison = class LiveComparison {
  constructor({ echoPort, session, pollIntervalMs, flushMs = 250 }) {
    this.urls = {
      poll: wsDemo.echoUrl('http', echoPort, '/poll', { session }),
      push: wsDemo.echoUrl('ws', echoPort, '/push', { session }),
      clock: wsDemo.echoUrl('http', echoPort, '/clock'),
      echo: wsDemo.echoUrl('ws', echoPort, '/echo', { session }),
    };
    this.clock = new wsDemo.ClockSync();
    this.pending = { poll: [], push: [], failures: [], statuses: [] };
    this.poller = new wsDemo.HttpPoller({
      pollUrl: this.urls.poll,
      intervalMs: pollIntervalMs,
      onAnswer: (updates, receivedAt) => {
        for (const update of updates) this.pending.poll.push([update.seq, update.made_at, receivedAt]);
      },
      onFailure: (message) => this.pending.failures.push({ at: wsDemo.now(), message }),
    });
    this.pusher = new wsDemo.PushClient({
      pushUrl: this.urls.push,
      clock: this.clock,
      onUpdate: (update, receivedAt) => this.pending.push.push([update.seq, update.made_at, receivedAt]),
      onStatus: (status) => {
        this.pending.statuses.push({ ...status, at: wsDemo.now() });
        this.flush();
      },
    });
    this.active = false;
    this.lastCounts = '';
    this.flushTimer = setInterval(() => this.flush(), flushMs);
  }

  // The feed starts only once the push socket is open and the clocks are compared (the page starts it when
  // it hears `demo_lanes_ready`), so both lanes can see every update from the first one.
  async start() {
    this.active = true;
    this.pusher.connect();
    await this.until(() => this.pusher.isOpen, 5000);
    await this.until(() => this.clock.exchanges.length >= 5, 1000);
    if (!this.active) return;  // stopped while connecting
    if (this.clock.exchanges.length === 0) {
      try {
        await this.clock.overHttp(this.urls.clock);
      } catch (error) {
        this.pending.failures.push({ at: wsDemo.now(), message: `clock: ${error.message || error}` });
      }
    }
    if (!this.active) return;
    this.poller.start();
    this.flush();
    emitEvent('demo_lanes_ready', { urls: this.urls });
  }

  stop() {
    this.active = false;
    this.poller.stop();
    this.pusher.disconnect();
    this.flush();
  }

  // After the page resets the session's feed, numbering starts again from 1.
  reset() {
    this.poller.cursor = 0;
    this.poller.requests = this.poller.emptyAnswers = this.poller.failures = 0;
    this.pusher.framesSent = this.pusher.framesReceived = this.pusher.connectionsOpened = 0;
    this.pending.poll = [];
    this.pending.push = [];
    this.pending.failures = [];
  }

  setPollInterval(ms) {
    this.poller.intervalMs = ms;
  }

  async until(condition, timeoutMs) {
    const deadline = wsDemo.now() + timeoutMs;
    while (!condition() && wsDemo.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  // Only when something changed: an idle page should not keep the page's own connection busy.
  flush() {
    const { poll, push, failures, statuses } = this.pending;
    const clockExchanges = this.clock.takeUnreported();
    const counts = [this.poller.requests, this.poller.emptyAnswers, this.poller.failures, this.poller.running,
                    this.poller.lastError, this.poller.intervalMs, this.pusher.framesSent,
                    this.pusher.framesReceived, this.pusher.connectionsOpened].join();
    const news = poll.length + push.length + failures.length + statuses.length + clockExchanges.length;
    if (news === 0 && counts === this.lastCounts) return;
    this.lastCounts = counts;
    this.pending = { poll: [], push: [], failures: [], statuses: [] };
    emitEvent('demo_lane_samples', {
      poll: {
        samples: poll, failures, requests: this.poller.requests, empty_answers: this.poller.emptyAnswers,
        failed_requests: this.poller.failures, running: this.poller.running,
        last_error: this.poller.lastError, interval_ms: this.poller.intervalMs,
      },
      push: {
        samples: push, statuses, frames_sent: this.pusher.framesSent, frames_received: this.pusher.framesReceived,
        connections_opened: this.pusher.connectionsOpened, open: this.pusher.isOpen,
        extensions: this.pusher.socket ? this.pusher.socket.extensions : '',
      },
      clock_exchanges: clockExchanges,
    });
  }
};
