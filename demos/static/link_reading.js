// What a link profile does to each lane, in words: the lanes panel shows these under its buttons once the learner
// picks a link. The figures come from the echo server's answer to the page's `link` command (the link model's
// forecast, demos/protocol/lane_forecast.py); the words from the panel's texts (content/demo.md).
'use strict';

window.wsDemo = window.wsDemo || {};

// How close to half the long-poll lane's waiting share is "on the edge": within it a 30 s run's median lands
// anywhere from no wait to a fifth of a window (tests/unit/test_lane_forecast.py simulates it).
const EDGE_OF_HALF = 0.1;

// A custom profile's figures and where the page starts them (each one's label is the text `custom_` + its name).
wsDemo.CUSTOM_LINK = { rtt_ms: 200, jitter_ms: 0, down_kbit_s: null, up_kbit_s: null, loss_percent: 0 };

// The `link` command's arguments: the profile, and what the forecast is for. An empty custom field is a bandwidth
// with no limit (null), or else left out: the server's default (no jitter, no loss; a round trip it asks for).
wsDemo.linkCommand = function linkCommand(profileId, custom, pollIntervalMs, ratePerS) {
  const args = { profile: profileId, poll_interval_ms: pollIntervalMs, rate_per_s: ratePerS };
  if (profileId !== 'custom') return args;
  for (const name of Object.keys(wsDemo.CUSTOM_LINK)) {
    const value = custom[name];
    const empty = value === '' || value === null || value === undefined;
    if (!empty) args[name] = Number(value);
    else if (name.endsWith('_kbit_s')) args[name] = null;
  }
  return args;
};

// Sends the `link` command; { link: the answer } when the server took it, else { linkError: why, in words }.
wsDemo.chooseLink = async function chooseLink(hub, texts, profileId, custom, pollIntervalMs, ratePerS) {
  const reply = await hub.command('link', wsDemo.linkCommand(profileId, custom, pollIntervalMs, ratePerS));
  return reply.ok ? { link: reply, linkError: '' } : { linkError: wsDemo.fill(texts.link_error, { error: reply.error }) };
};

// { intro, lines: [{ id, title, text }] } for a shaped link; null on loopback ("same room") or before any answer.
wsDemo.linkReading = function linkReading(reply, texts, lanes) {
  if (!reply || !reply.profile || reply.profile.id === 'same-room') return null;
  const round = (value) => Math.round(value ?? 0);
  const profile = reply.profile;
  const lines = lanes.map((lane) => {
    const model = reply.forecast[lane.id];
    const values = {
      median_ms: round(model.median_ms), setup_ms: round(model.setup_ms), question_ms: round(model.round_trip_ms),
      window_ms: round(model.cycle_ms), interval_ms: round(reply.poll_interval_ms),
      between_ms: round(1000 / reply.rate_per_s), stall_ms: round(model.stall_ms),
      loss_percent: +(profile.loss * 100).toFixed(2), base_ms: round(model.base_ms), p95_ms: round(model.p95_ms),
      // never "100 in 100" or "0 in 100" for a share that is neither all nor none
      waiting_percent: Math.min(99, Math.max(model.waiting_share > 0 ? 1 : 0, round((model.waiting_share ?? 0) * 100))),
      one_in: model.stalled_share > 0 ? Math.max(1, Math.round(1 / model.stalled_share)) : 0,
    };
    const polling = lane.id === 'poll' || lane.id === 'longpoll';
    let text = wsDemo.fill(texts[`link_${lane.id}${polling && model.link_bound ? '_bound' : ''}`], values);
    // Near half blind a run's median jumps between "no wait" and "part of a window" (lane_forecast.py's module).
    const onTheEdge = lane.id === 'longpoll' && Math.abs((model.waiting_share ?? 0) - 0.5) < EDGE_OF_HALF;
    if (onTheEdge) text += ' ' + wsDemo.fill(texts.link_longpoll_edge, values);
    if (model.stalled_share > 0) text += ' ' + wsDemo.fill(texts.link_loss, values);
    return { id: lane.id, title: lane.title, text };
  });
  const intro = wsDemo.fill(texts.link_intro, {
    one_way_ms: +(profile.rtt_ms / 2).toFixed(2), setup_ms: round(reply.forecast.push.setup_ms),
  });
  return { intro, lines };
};
