// The rss dashboard: renders the snapshots the server streams over
// Server-Sent Events (/events) and, in the demo, posts steering actions.
// Plain browser script, no build step; every value shown goes in through
// textContent, never as HTML.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const controlToken = document.querySelector('meta[name="rss-control"]').content;
  const cards = new Map();

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function duration(ms) {
    if (ms === undefined || ms === null) return '—';
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 1 : 0) + ' s';
    const s = Math.round(ms / 1000);
    return Math.floor(s / 60) + 'm ' + String(s % 60).padStart(2, '0') + 's';
  }

  function clock(at) {
    return new Date(at).toLocaleTimeString([], { hour12: false });
  }

  // ---- steering -------------------------------------------------------------
  async function act(body) {
    const said = $('said');
    said.textContent = '…';
    try {
      const res = await fetch('/api/control', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-rss-control': controlToken },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      said.textContent = res.ok ? JSON.parse(text).said : text.trim();
    } catch (err) {
      said.textContent = String(err);
    }
  }

  if (controlToken) {
    $('steer').hidden = false;
    $('btn-handoff').addEventListener('click', () => act({ action: 'handoff' }));
    $('btn-chaos-on').addEventListener('click', () => act({ action: 'chaos', spec: $('chaos-spec').value.trim() }));
    $('btn-chaos-off').addEventListener('click', () => act({ action: 'chaos', spec: 'off' }));
    for (const b of document.querySelectorAll('[data-store]')) b.addEventListener('click', () => act({ action: 'store', spec: b.dataset.store }));
  }

  // ---- server cards -------------------------------------------------------------
  function stat(label) {
    const box = el('div', 'stat');
    const value = el('b', '', '—');
    box.append(value, el('span', '', label));
    return { box, value };
  }

  function card(tag) {
    let c = cards.get(tag);
    if (c) return c;
    const root = el('article', 'server');
    root.dataset.server = tag;
    const head = el('div', 'server-head');
    const role = el('span', 'role', '…');
    const epoch = el('span', 'epoch', '');
    head.append(el('span', 'tag', tag), role, epoch);
    const bar = el('div', 'bar');
    const fill = el('div');
    bar.append(fill);
    const left = el('div', 'left', '');
    const stats = el('div', 'stats');
    const s = { users: stat('users'), online: stat('online'), req: stat('req/s'), push: stat('pushes/s'), retr: stat('resent'), errs: stat('store errs') };
    for (const v of Object.values(s)) stats.append(v.box);
    const reason = el('div', 'reason', '');
    root.append(head, bar, left, stats, reason);
    let kill;
    let start;
    if (controlToken) {
      const actions = el('div', 'actions');
      kill = el('button', 'btn danger', 'Kill ' + tag);
      kill.dataset.action = 'kill';
      kill.addEventListener('click', () => act({ action: 'kill', server: tag }));
      start = el('button', 'btn go', 'Start ' + tag);
      start.dataset.action = 'start';
      start.addEventListener('click', () => act({ action: 'start', server: tag }));
      actions.append(kill, start);
      root.append(actions);
    }
    c = { root, role, epoch, fill, left, s, reason, kill, start };
    cards.set(tag, c);
    $('servers').append(root);
    return c;
  }

  function renderServer(s) {
    const c = card(s.tag);
    c.root.dataset.role = s.role;
    c.role.textContent = s.role;
    c.epoch.textContent = 'epoch ' + s.epoch;
    const whole = s.timeLeftOf === 'period' ? s.period : s.leaseTtl;
    const frac = s.timeLeftMs === undefined || !whole ? 0 : Math.max(0, Math.min(1, s.timeLeftMs / whole));
    c.fill.style.width = (frac * 100).toFixed(1) + '%';
    c.left.textContent = !s.running ? 'stopped' : s.timeLeftMs === undefined ? 'waiting for the lease'
      : s.timeLeftOf === 'period' ? duration(s.timeLeftMs) + ' left in its period'
      : 'standing by: takes over if the serving server stays silent ' + duration(s.timeLeftMs) + ' more';
    c.s.users.value.textContent = s.users;
    c.s.online.value.textContent = s.usersOnline;
    c.s.req.value.textContent = Number(s.requestsPerSecond).toFixed(1);
    c.s.push.value.textContent = Number(s.pushesPerSecond).toFixed(1);
    c.s.retr.value.textContent = s.retransmissions;
    c.s.errs.value.textContent = s.storeErrors;
    c.reason.textContent = s.running && !s.ready ? s.reason : '';
    if (c.kill) {
      c.kill.disabled = !s.running;
      c.start.disabled = s.running;
    }
  }

  // ---- lists -------------------------------------------------------------------
  function renderTimeline(events) {
    const list = $('timeline');
    list.replaceChildren();
    if (events.length === 0) list.append(el('li', 'empty', 'nothing yet'));
    for (const e of events) {
      const li = el('li');
      li.dataset.kind = e.kind;
      const what = el('div');
      what.append(el('span', 'k k-' + e.kind, e.kind), document.createTextNode(e.text));
      li.append(el('time', '', clock(e.at)), what);
      list.append(li);
    }
  }

  function renderTexts(texts) {
    const body = $('texts');
    body.replaceChildren();
    if (texts.length === 0) {
      const tr = el('tr');
      const td = el('td', 'empty', 'no texts yet: publish one with rss client');
      td.colSpan = 4;
      tr.append(td);
      body.append(tr);
    }
    for (const t of texts) {
      const tr = el('tr');
      tr.append(el('td', 'num', '#' + t.seq), el('td', '', t.name), el('td', '', ''), el('td', 'msg', t.text));
      tr.children[2].append(el('span', 'chip', t.subject));
      body.append(tr);
    }
  }

  function renderUsers(users) {
    const body = $('users');
    body.replaceChildren();
    const online = users.list.filter((u) => u.online).length;
    $('users-count').textContent = users.total + ' registered, ' + (users.live ? online + ' online' : 'online unknown: nobody serves');
    if (users.list.length === 0) {
      const tr = el('tr');
      const td = el('td', 'empty', 'no users yet');
      td.colSpan = 4;
      tr.append(td);
      body.append(tr);
    }
    for (const u of users.list) {
      const tr = el('tr');
      tr.dataset.user = u.name;
      const dot = el('td');
      dot.append(el('span', 'dot' + (u.online ? ' on' : '')));
      dot.title = u.online ? 'online' : 'offline';
      const subjects = el('td');
      for (const s of u.subjects) subjects.append(el('span', 'chip', s));
      tr.append(dot, el('td', '', u.name), el('td', 'muted', u.dialect), subjects);
      body.append(tr);
    }
  }

  function render(snap) {
    for (const s of snap.servers) renderServer(s);
    $('texts-stored').textContent = 'texts ' + (snap.texts === null ? '—' : snap.texts);
    const chaos = $('chaos-state');
    chaos.textContent = snap.chaos ? 'chaos ' + snap.chaos : 'chaos off';
    chaos.classList.toggle('on', Boolean(snap.chaos));
    $('store-faults').hidden = !(controlToken && snap.storeFaults);
    renderTimeline(snap.timeline);
    renderTexts(snap.latest);
    renderUsers(snap.users);
    document.title = 'rss · ' + (snap.serving ? snap.serving + ' serving' : 'nobody serving');
  }

  // ---- chart -------------------------------------------------------------------
  const WINDOW = 300;
  const data = [[], [], [], []];
  let plot;

  function makePlot() {
    const box = $('chart');
    const width = Math.max(300, box.clientWidth);
    plot = new uPlot({
      width, height: 200,
      cursor: { drag: { x: false, y: false } },
      legend: { live: false },
      scales: {
        // Always the last five minutes, newest at the right.
        x: { time: true, range: (u, min, max) => { const hi = max ?? Date.now() / 1000; return [hi - WINDOW, hi]; } },
        y: { range: (u, min, max) => [0, Math.max(1, max * 1.15)] },
      },
      axes: [
        {
          stroke: '#8a94ad', grid: { stroke: '#232c42' }, ticks: { stroke: '#232c42' }, space: 90,
          values: (u, ticks) => ticks.map((t) => new Date(t * 1000).toLocaleTimeString([], { hour12: false })),
        },
        { stroke: '#8a94ad', grid: { stroke: '#232c42' }, ticks: { stroke: '#232c42' }, size: 44 },
      ],
      series: [
        {},
        { label: 'requests/s', stroke: '#5aa9ff', width: 2, fill: 'rgba(90,169,255,0.12)' },
        { label: 'pushes/s', stroke: '#3ddc97', width: 2 },
        { label: 'retransmissions/s', stroke: '#ff6b6b', width: 2 },
      ],
    }, data, box);
    window.addEventListener('resize', () => plot.setSize({ width: Math.max(300, box.clientWidth), height: 200 }));
  }

  function addRate(r) {
    data[0].push(r.at / 1000);
    data[1].push(r.requests);
    data[2].push(r.pushes);
    data[3].push(r.retransmissions);
    if (data[0].length > WINDOW) for (const a of data) a.shift();
  }

  // ---- stream ------------------------------------------------------------------
  function connect() {
    const conn = $('conn');
    const source = new EventSource('/events');
    source.addEventListener('open', () => { conn.dataset.state = 'live'; conn.textContent = 'live'; });
    source.addEventListener('error', () => { conn.dataset.state = 'lost'; conn.textContent = 'reconnecting…'; });
    source.addEventListener('rates', (e) => {
      for (const a of data) a.length = 0;
      for (const r of JSON.parse(e.data)) addRate(r);
      plot.setData(data);
    });
    source.addEventListener('rate', (e) => {
      addRate(JSON.parse(e.data));
      plot.setData(data);
    });
    source.addEventListener('snapshot', (e) => render(JSON.parse(e.data)));
  }

  makePlot();
  connect();
})();
