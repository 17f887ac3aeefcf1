// Bulwark operator console: polls GET /api/v1/summary every second while the tab is visible, and
// the event log, recovery timings and routes only when the event log moved. The admin token is
// kept in this tab's sessionStorage and sent as the Authorization header, never in a URL.
'use strict';
(function () {
  const TOKEN_KEY = 'bulwark.admin.token';
  const POLL_MS = 1000;
  const RATE_WINDOW_MS = 60000;
  const $ = (id) => document.getElementById(id);

  let summary = null;          // the last GET /api/v1/summary
  let recovery = {};           // "cluster/address" -> recovery entry
  let routes = [];
  let eventsSeen = -1;         // events_published when events were last fetched
  let timer = null;
  let failures = 0;
  const samples = {};          // "cluster/address" -> [{t, requests, failures}] over the last minute
  const rendered = {};         // element id -> last HTML, so unchanged parts are not rebuilt

  // ---- API calls ----

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(method, path, body) {
    const headers = {};
    const t = token();
    if (t) headers['Authorization'] = 'Bearer ' + t;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(path, { method, headers, cache: 'no-store', credentials: 'omit',
      body: body === undefined ? undefined : JSON.stringify(body) });
    let json = null;
    try { json = await r.json(); } catch (e) { json = null; }
    if (!r.ok) {
      const msg = json && json.message ? json.message : ('HTTP ' + r.status);
      throw new ApiError(r.status, msg + (json && json.problems
        ? ': ' + json.problems.map((p) => p.path + ': ' + p.message).join('; ') : ''));
    }
    return json;
  }

  // ---- login ----

  function showLogin(message) {
    stop();
    $('app').hidden = true;
    $('logout').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('status').textContent = 'not connected';
    $('token').focus();
  }

  async function connect() {
    try {
      await refresh(true);
    } catch (e) {
      if (e.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        showLogin('Refused: ' + e.message);
        return;
      }
      showLogin('Cannot reach the admin API: ' + e.message);
      return;
    }
    $('login').hidden = true;
    $('app').hidden = false;
    $('logout').hidden = false;
    start();
  }

  function start() {
    stop();
    timer = setInterval(tick, POLL_MS);
  }

  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
  }

  async function tick() {
    if (document.hidden) return; // costs nothing while the tab is not looked at
    try {
      await refresh(false);
      failures = 0;
    } catch (e) {
      if (e.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        showLogin('Refused: ' + e.message);
        return;
      }
      failures++;
      const s = $('status');
      s.textContent = 'stale: ' + e.message;
      s.classList.add('stale');
    }
  }

  async function refresh(all) {
    const s = await api('GET', '/api/v1/summary');
    summary = s;
    sample(s);
    if (all || s.events_published !== eventsSeen) {
      const [ev, rec] = await Promise.all([api('GET', '/api/v1/events?limit=60'), api('GET', '/api/v1/recovery')]);
      recovery = {};
      rec.upstreams.forEach((u) => { recovery[u.cluster + '/' + u.address] = u; });
      const routeChange = ev.events.some((e) => e.type === 'reload' || e.type === 'fault');
      if (all || routeChange || routes.length === 0) routes = (await api('GET', '/api/v1/routes')).routes;
      eventsSeen = s.events_published;
      renderEvents(ev.events);
      renderRoutes();
    }
    renderConfig();
    renderClusters();
    renderTimeline();
    const st = $('status');
    st.classList.remove('stale');
    st.textContent = 'live · updated ' + new Date(s.time).toLocaleTimeString() + ' (server time)';
  }

  // ---- figures ----

  function sample(s) {
    const now = Date.parse(s.time);
    s.clusters.forEach((c) => c.upstreams.forEach((u) => {
      const key = c.name + '/' + u.address;
      const list = samples[key] || (samples[key] = []);
      list.push({ t: now, requests: u.stats.requests, failures: u.stats.failures });
      while (list.length > 2 && now - list[0].t > RATE_WINDOW_MS) list.shift();
    }));
  }

  /** Requests per second and error share over the samples of the last minute (null before two samples). */
  function rates(key) {
    const list = samples[key];
    if (!list || list.length < 2) return null;
    const a = list[0], b = list[list.length - 1];
    const secs = (b.t - a.t) / 1000;
    if (secs <= 0 || b.requests < a.requests) return null;
    const dr = b.requests - a.requests, df = b.failures - a.failures;
    return { rps: dr / secs, errorPct: dr > 0 ? 100 * df / dr : null, secs };
  }

  function ms(n) {
    if (n === null || n === undefined) return '—';
    if (n < 1000) return Math.round(n) + ' ms';
    if (n < 120000) return (n / 1000).toFixed(1) + ' s';
    return Math.round(n / 60000) + ' min';
  }

  function left(iso) {
    if (!iso || !summary) return null;
    return Math.max(0, Date.parse(iso) - Date.parse(summary.time));
  }

  function esc(v) {
    return String(v === null || v === undefined ? '' : v).replace(/[&<>"']/g,
      (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[ch]));
  }

  function badge(cls, word, title) {
    return '<span class="badge ' + cls + '"' + (title ? ' title="' + esc(title) + '"' : '') + '>' + esc(word) + '</span>';
  }

  function setHtml(id, html) {
    if (rendered[id] === html) return;
    rendered[id] = html;
    $(id).innerHTML = html;
  }

  // ---- rendering ----

  /** One word for where the upstream stands, most important first. */
  function state(u) {
    if (u.eligible) return u.warming_up ? ['info', 'slow start'] : ['ok', 'eligible'];
    if (u.admin === 'drained') return ['warn', 'drained'];
    if (u.admin === 'draining') return ['warn', 'draining'];
    if (u.outlier) return ['bad', 'ejected'];
    if (u.override === 'unhealthy') return ['bad', 'forced unhealthy'];
    if (u.health === 'unhealthy') return ['bad', 'unhealthy'];
    if (u.weight <= 0) return ['warn', 'zero weight'];
    return ['bad', 'not eligible'];
  }

  function renderConfig() {
    const r = summary.last_reload;
    const n = (k, word) => k + ' ' + word + (k === 1 ? '' : 's');
    let html = '<p>' + n(summary.clusters.length, 'cluster') + ', ' + n(summary.routes, 'route') + '. Reload by: '
      + (summary.reload_paths.length ? esc(summary.reload_paths.join(', ')) : 'none (no config file)') + '. ';
    if (!r) {
      html += 'Last reload: ' + badge('muted', 'none') + ' (the config loaded at start is in force).';
    } else if (r.result === 'accepted') {
      html += 'Last reload: ' + badge('ok', 'accepted') + ' at ' + esc(new Date(r.time).toLocaleString())
        + ' by ' + esc(r.trigger) + (r.summary ? ' — ' + esc(r.summary) : '') + '.';
    } else {
      html += 'Last reload: ' + badge('bad', 'rejected') + ' at ' + esc(new Date(r.time).toLocaleString())
        + ' by ' + esc(r.trigger) + ' — ' + esc(r.problems) + ' problem(s), first: <code>' + esc(r.first_problem)
        + '</code>. The previous config stays in force.';
    }
    const v = summary.config_version;
    if (v && v.running != null) {
      html += ' Running config version ' + badge(v.differs_from_file ? 'warn' : 'ok', String(v.running))
        + (v.differs_from_file ? ' — differs from the file' + (v.note ? ': ' + esc(v.note) : '') : '') + '.';
    }
    setHtml('config', html + '</p>');
  }

  function renderClusters() {
    setHtml('clusters', summary.clusters.map(renderCluster).join(''));
  }

  function renderCluster(c) {
    const cb = c.circuit_breaker || {};
    const cbCls = cb.state === 'closed' ? 'ok' : cb.state === 'open' ? 'bad' : 'warn';
    const eligible = c.upstreams.filter((u) => u.eligible).length;
    const l = c.limits || {}; const max = l.max || {};
    let html = '<div class="cluster" data-cluster="' + esc(c.name) + '"><h3>' + esc(c.name)
      + ' ' + badge(eligible === 0 ? 'bad' : eligible < c.upstreams.length ? 'warn' : 'ok',
        eligible + ' of ' + c.upstreams.length + ' eligible')
      + ' ' + badge(cbCls, 'circuit ' + (cb.state || 'n/a').replace('_', '-'),
        cb.failure_rate_known ? 'failure rate ' + cb.failure_rate + '%' : 'no failure rate yet')
      + ' ' + (c.panic ? badge('bad', 'PANIC: balancing over all upstreams') : badge('ok', 'no panic'))
      + '</h3><div class="meta">balancer ' + esc(c.load_balancer)
      + ' · breaker failure rate ' + (cb.failure_rate_known ? esc(cb.failure_rate) + '%' : '— (too few calls)')
      + ' · in use: requests ' + esc(l.active_requests) + '/' + esc(max.active_requests)
      + ', pending ' + esc(l.pending_requests) + '/' + esc(max.pending_requests)
      + ', retries ' + esc(l.active_retries) + '/' + esc(max.active_retries) + '</div>'
      + '<table><thead><tr><th>upstream</th><th>state</th><th>admin</th><th>health</th><th>outlier</th>'
      + '<th>override</th><th>weight (share)</th><th>active</th><th>req/s</th><th>errors</th>'
      + '<th>latency (peak EWMA)</th><th>actions</th></tr></thead><tbody>';
    const totalWeight = c.upstreams.filter((u) => u.eligible).reduce((a, u) => a + u.effective_weight, 0);
    c.upstreams.forEach((u) => { html += renderUpstream(c, u, totalWeight); });
    return html + '</tbody></table></div>';
  }

  function renderUpstream(c, u, totalWeight) {
    const [cls, word] = state(u);
    const key = c.name + '/' + u.address;
    const ttl = u.ttl_until || {};
    const admin = u.admin === 'active' ? badge('ok', 'active')
      : badge('warn', u.admin) + (ttl.drain ? ' <span class="muted">reverts in ' + ms(left(ttl.drain)) + '</span>' : '');
    const health = badge(u.health === 'healthy' ? 'ok' : u.health === 'unhealthy' ? 'bad' : 'muted', u.health);
    let outlier = '<span class="muted">—</span>';
    if (u.outlier) {
      outlier = badge('bad', 'ejected') + ' ' + esc(u.outlier.reason) + '<br><span class="muted">'
        + (u.outlier.awaiting_probe ? 'awaiting a passing probe' : ms(left(u.outlier.ejected_until)) + ' left')
        + ', ejection #' + esc(u.outlier.times_ejected) + '</span>';
    }
    const override = u.override === 'none' ? '<span class="muted">none</span>'
      : badge(u.override === 'healthy' ? 'info' : 'bad', 'forced ' + u.override)
        + (ttl.override ? ' <span class="muted">' + ms(left(ttl.override)) + ' left</span>' : '');
    const share = u.eligible && totalWeight > 0 ? Math.round(100 * u.effective_weight / totalWeight) + '%' : '0%';
    let weight = esc(u.weight) + (u.weight !== u.configured_weight ? ' <span class="muted">(config '
      + esc(u.configured_weight) + (ttl.weight ? ', back in ' + ms(left(ttl.weight)) : '') + ')</span>' : '')
      + ' <span class="muted">(' + share + ')</span>';
    if (u.warming_up) weight += '<br>' + badge('info', 'slow start ' + Math.round(100 * u.effective_weight / Math.max(1, u.weight)) + '%');
    const r = rates(key);
    const rps = r ? r.rps.toFixed(1) : '—';
    const err = r && r.errorPct !== null ? r.errorPct.toFixed(1) + '%' : '—';
    const reasons = u.reasons.length ? '<div class="reasons">not eligible: ' + esc(u.reasons.join(', ')) + '</div>' : '';
    const a = (action, label) => '<button type="button" data-action="' + action + '" data-cluster="' + esc(c.name)
      + '" data-address="' + esc(u.address) + '">' + label + '</button>';
    const buttons = (u.admin === 'active' ? a('drain', 'Drain') : a('restore', 'Restore'))
      + (u.outlier ? a('uneject', 'Uneject') : '') + a('override', 'Health…') + a('weight', 'Weight…');
    return '<tr class="upstream" data-cluster="' + esc(c.name) + '" data-address="' + esc(u.address) + '">'
      + '<td><code>' + esc(u.address) + '</code></td>'
      + '<td class="state">' + badge(cls, word) + reasons + '</td>'
      + '<td class="admin">' + admin + '</td><td class="health">' + health + '</td>'
      + '<td class="outlier">' + outlier + '</td><td class="override">' + override + '</td>'
      + '<td class="weight">' + weight + '</td><td class="num active">' + esc(u.active_requests) + '</td>'
      + '<td class="num rate" title="over the last ' + (r ? Math.round(r.secs) : 0) + ' s this page watched">' + rps + '</td>'
      + '<td class="num errors">' + err + '</td>'
      + '<td class="num latency">' + (u.latency_ewma_ms > 0 ? esc(u.latency_ewma_ms) + ' ms' : '—') + '</td>'
      + '<td class="actions">' + buttons + '</td></tr>';
  }

  function renderTimeline() {
    const now = Date.parse(summary.time);
    const entries = Object.values(recovery).filter((r) => r.episodes.length > 0);
    if (entries.length === 0) {
      setHtml('timeline', '<p class="muted">No upstream has been taken out since start.</p>');
      return;
    }
    let longest = 1;
    const spans = entries.map((r) => r.episodes.slice(0, 3).map((e) => {
      const t0 = Date.parse(e.first_failure), out = Date.parse(e.taken_out);
      const back = e.back ? Date.parse(e.back) : null, full = e.full_weight ? Date.parse(e.full_weight) : null;
      const seg = { detect: out - t0, out: (back || now) - out, ramp: back ? (full || now) - back : 0 };
      longest = Math.max(longest, seg.detect + seg.out + seg.ramp);
      return { e, seg, back, full };
    }));
    let html = '<div class="legend hint"><span><i class="seg-detect"></i>failing → detected</span>'
      + '<span><i class="seg-out"></i>out of rotation</span><span><i class="seg-ramp"></i>back → full share</span></div>';
    entries.forEach((r, i) => {
      html += '<div class="upstream-timeline" data-cluster="' + esc(r.cluster) + '" data-address="' + esc(r.address)
        + '"><strong>' + esc(r.cluster) + ' / <code>' + esc(r.address) + '</code></strong> '
        + (r.in_episode ? badge('bad', 'in episode') : badge('ok', 'recovered'));
      spans[i].forEach(({ e, seg, back, full }) => {
        const pct = (v) => (100 * v / longest).toFixed(2) + '%';
        html += '<div class="episode"><div>' + esc(new Date(e.first_failure).toLocaleTimeString()) + ' · ' + esc(e.reason)
          + ' · detected in ' + ms(e.time_to_detect_ms)
          + ' · out ' + (back ? ms(e.time_out_ms) : ms(seg.out) + ' so far')
          + (e.time_to_readmit_ms !== null ? ' · readmitted ' + ms(e.time_to_readmit_ms) + ' after a passing check' : '')
          + (back ? ' · full share ' + (full ? 'after ' + ms(e.time_to_full_share_ms) : 'ramping') : '')
          + (e.time_to_recover_ms !== null ? ' · recovered in ' + ms(e.time_to_recover_ms) : '')
          + '</div><div class="bar" data-w-detect="' + pct(seg.detect) + '" data-w-out="' + pct(seg.out)
          + '" data-w-ramp="' + pct(seg.ramp) + '"><span class="seg-detect"></span><span class="seg-out"></span>'
          + '<span class="seg-ramp"></span></div></div>';
      });
      html += '</div>';
    });
    setHtml('timeline', html);
    // Widths through the CSSOM: the page's policy allows no inline style attributes.
    document.querySelectorAll('#timeline .bar').forEach((bar) => {
      [bar.dataset.wDetect, bar.dataset.wOut, bar.dataset.wRamp].forEach((w, i) => {
        bar.children[i].style.width = w;
        bar.children[i].classList.toggle('nonzero', parseFloat(w) > 0); // a short phase stays visible
      });
    });
  }

  function renderEvents(events) {
    setHtml('events', events.map((e) => {
      const bad = e.type === 'ejected' || e.type === 'panic_entered' || e.reason === 'rejected'
        || ['unhealthy', 'open', 'draining', 'drained'].includes(e.to);
      const good = ['unejected', 'recovered', 'restored', 'panic_left'].includes(e.type) || e.to === 'healthy'
        || e.to === 'closed' || e.reason === 'accepted';
      const d = e.detail || {};
      const extra = [d.note ? 'note: “' + d.note + '”' : null, d.ttl_ms ? 'ttl ' + ms(d.ttl_ms) : null,
        d.summary || null, d.first_problem || null, d.route ? 'route ' + d.route : null].filter((x) => x);
      return '<li class="event" data-type="' + esc(e.type) + '"><time>' + esc(new Date(e.time).toLocaleTimeString())
        + '</time>' + badge(bad ? 'bad' : good ? 'ok' : 'info', e.type) + ' ' + esc([e.cluster, e.upstream].filter((x) => x).join(' / '))
        + ' ' + esc(e.from || '') + (e.to ? ' → ' + esc(e.to) : '') + (e.reason ? ' <span class="muted">(' + esc(e.reason) + ')</span>' : '')
        + (extra.length ? ' <span class="muted">' + esc(extra.join(' · ')) + '</span>' : '') + '</li>';
    }).join('') || '<li class="muted">no events yet</li>');
  }

  function renderRoutes() {
    let html = '<table><thead><tr><th>#</th><th>route</th><th>match</th><th>clusters</th><th>timeout</th>'
      + '<th>retry</th><th>hedge</th><th>rate limit</th><th>fault</th></tr></thead><tbody>';
    routes.forEach((r, i) => {
      const m = r.match;
      const match = Object.entries(m).map(([k, v]) => k + ' ' + (typeof v === 'object' ? JSON.stringify(v) : v)).join(', ');
      const rt = r.retry;
      const f = r.fault;
      const fault = f.active
        ? badge('bad', 'ON') + ' abort ' + esc(f.abort.percent) + '% (' + esc(f.abort.status) + '), delay '
          + esc(f.delay.percent) + '% (' + ms(f.delay.duration_ms) + ')'
        : badge('muted', 'off');
      html += '<tr class="route" data-route="' + esc(r.name) + '"><td>' + (i + 1) + '</td><td>' + esc(r.name) + '</td>'
        + '<td><code>' + esc(match) + '</code>' + (r.prefix_rewrite ? '<br>rewrite → <code>' + esc(r.prefix_rewrite) + '</code>' : '') + '</td>'
        + '<td>' + esc(r.clusters.map((c) => c.name + (r.clusters.length > 1 ? ' ×' + c.weight : '')).join(', ')) + '</td>'
        + '<td>' + ms(r.timeout_ms) + '</td>'
        + '<td>' + (rt.max_retries > 0 ? esc(rt.max_retries) + '× on ' + esc(rt.retry_on.join(', '))
          + (rt.per_try_timeout_ms > 0 ? ', per try ' + ms(rt.per_try_timeout_ms) : '') + ', budget ' + esc(rt.budget_percent) + '%' : 'none') + '</td>'
        + '<td>' + (r.hedge ? (r.hedge.delay ? 'after ' + esc(r.hedge.delay) : 'after ' + ms(r.hedge.delay_ms))
          + ', +' + esc(r.hedge.max_extra) : 'off') + '</td>'
        + '<td>' + (r.rate_limit ? esc(r.rate_limit.requests_per_second) + '/s, burst ' + esc(r.rate_limit.burst)
          + ' by ' + esc(r.rate_limit.key) : 'none') + '</td>'
        + '<td class="fault">' + fault + ' <button type="button" data-action="fault" data-route="' + esc(r.name) + '">'
        + (f.active ? 'Turn off…' : 'Inject…') + '</button></td></tr>';
    });
    setHtml('routes', html + '</tbody></table>');
  }

  // ---- actions ----

  function findUpstream(cluster, address) {
    const c = summary.clusters.find((x) => x.name === cluster);
    return { c, u: c && c.upstreams.find((x) => x.address === address) };
  }

  /** Would {@code u} be eligible with these changes (mirrors Upstream.eligible())? */
  function eligibleWith(u, change) {
    const v = Object.assign({ admin: u.admin, override: u.override, health: u.health, outlier: u.outlier, weight: u.weight }, change);
    if (v.admin !== 'active' || v.weight <= 0 || v.outlier) return false;
    if (v.override === 'unhealthy') return false;
    if (v.override === 'healthy') return true;
    return v.health !== 'unhealthy';
  }

  function effectText(c, u, change) {
    const total = c.upstreams.length;
    const after = c.upstreams.filter((x) => (x === u ? eligibleWith(u, change) : x.eligible)).length;
    const now = c.upstreams.filter((x) => x.eligible).length;
    let text = 'This leaves ' + after + ' of ' + total + ' upstreams eligible in cluster ' + c.name
      + ' (now ' + now + ').';
    if (after === 0) text += ' No upstream would take traffic: every request to ' + c.name + ' fails with 503.';
    return { text, danger: after === 0 || after < now };
  }

  const dialogState = { run: null };

  function field(html) { $('confirm-fields').insertAdjacentHTML('beforeend', html); }

  function openDialog(title, effect, fields, run) {
    $('confirm-title').textContent = title;
    $('confirm-effect').textContent = effect.text;
    $('confirm-effect').className = effect.danger ? 'danger' : '';
    $('confirm-fields').innerHTML = '';
    fields.forEach(field);
    $('confirm-error').textContent = '';
    dialogState.run = run;
    $('confirm').showModal();
  }

  const TTL_FIELD = '<label>TTL (optional, reverts by itself): <input id="f-ttl" placeholder="e.g. 10m" size="8"></label>';
  const NOTE_FIELD = '<label>Reason (optional, written to the event log): <input id="f-note" maxlength="200" size="40"></label>';
  const val = (id) => { const el = $(id); return el && el.value.trim() !== '' ? el.value.trim() : null; };
  const up = (c, u) => '/api/v1/clusters/' + encodeURIComponent(c) + '/upstreams/' + encodeURIComponent(u);

  function onAction(btn) {
    const action = btn.dataset.action;
    if (action === 'fault') return faultDialog(btn.dataset.route);
    const { c, u } = findUpstream(btn.dataset.cluster, btn.dataset.address);
    if (!u) return;
    const base = up(c.name, u.address);
    if (action === 'drain') {
      const effect = effectText(c, u, { admin: 'draining' });
      effect.text = 'Drain ' + u.address + ': no new requests; the ' + u.active_requests
        + ' in flight finish, then it shows drained. ' + effect.text;
      openDialog('Drain ' + u.address + '?', effect, [TTL_FIELD, NOTE_FIELD,
        '<label><input type="checkbox" id="f-force"> force (allow draining the last eligible upstream)</label>'], () => {
        const q = new URLSearchParams();
        if (val('f-ttl')) q.set('ttl', val('f-ttl'));
        if (val('f-note')) q.set('note', val('f-note'));
        if ($('f-force').checked) q.set('force', 'true');
        return api('POST', base + '/drain' + (q.toString() ? '?' + q : ''));
      });
    } else if (action === 'restore') {
      const effect = effectText(c, u, { admin: 'active' });
      effect.danger = false;
      effect.text = 'Restore ' + u.address + ' to active' + (u.slow_start_ms > 0 ? ' (slow start ramps its share over '
        + ms(u.slow_start_ms) + ')' : '') + '. ' + effect.text;
      openDialog('Restore ' + u.address + '?', effect, [NOTE_FIELD], () => {
        const q = val('f-note') ? '?note=' + encodeURIComponent(val('f-note')) : '';
        return api('POST', base + '/restore' + q);
      });
    } else if (action === 'uneject') {
      const effect = effectText(c, u, { outlier: null });
      effect.danger = false;
      effect.text = 'End the ejection of ' + u.address + ' now and reset its backoff. ' + effect.text;
      openDialog('Uneject ' + u.address + '?', effect, [], () => api('POST', base + '/uneject'));
    } else if (action === 'override') {
      const effect = { text: '', danger: false };
      openDialog('Health override for ' + u.address, effect, [
        '<label>Override: <select id="f-override"><option value="none">none (the health checks decide)</option>'
        + '<option value="healthy">healthy (ignore the checks)</option><option value="unhealthy">unhealthy (take it out)</option>'
        + '</select></label>', TTL_FIELD, NOTE_FIELD], () => api('PUT', base + '/health',
        { override: $('f-override').value, ttl: val('f-ttl'), note: val('f-note') }));
      const sel = $('f-override');
      sel.value = u.override;
      const update = () => { const e = effectText(c, u, { override: sel.value }); $('confirm-effect').textContent = e.text;
        $('confirm-effect').className = e.danger ? 'danger' : ''; };
      sel.addEventListener('change', update);
      update();
    } else if (action === 'weight') {
      openDialog('Weight of ' + u.address, { text: '', danger: false }, [
        '<label>Weight (0..1000000, config ' + esc(u.configured_weight) + '): <input id="f-weight" type="number" min="0" max="1000000" value="'
        + esc(u.weight) + '"></label>', TTL_FIELD, NOTE_FIELD], () => {
        const w = Number($('f-weight').value);
        if (!Number.isInteger(w)) throw new ApiError(400, 'weight must be a whole number');
        return api('PUT', base + '/weight', { weight: w, ttl: val('f-ttl'), note: val('f-note') });
      });
      const input = $('f-weight');
      const update = () => {
        const w = Math.max(0, Number(input.value) || 0);
        const e = effectText(c, u, { weight: w });
        const others = c.upstreams.filter((x) => x !== u && x.eligible).reduce((a, x) => a + x.weight, 0);
        const share = eligibleWith(u, { weight: w }) && w + others > 0 ? Math.round(100 * w / (w + others)) : 0;
        $('confirm-effect').textContent = 'Its share becomes about ' + share + '% of ' + c.name + '. ' + e.text;
        $('confirm-effect').className = e.danger ? 'danger' : '';
      };
      input.addEventListener('input', update);
      update();
    }
  }

  function faultDialog(name) {
    const r = routes.find((x) => x.name === name);
    if (!r) return;
    const f = r.fault;
    openDialog('Fault injection on route ' + name, { text: f.active
      ? 'Turn off: route ' + name + ' forwards every request again.'
      : 'Requests on route ' + name + ' are aborted or delayed at the given percentages (as a config fault block).',
    danger: !f.active }, f.active ? [] : [
      '<label>Abort percent: <input id="f-abort" type="number" min="0" max="100" value="10"></label>',
      '<label>Abort status: <input id="f-status" type="number" min="200" max="599" value="503"></label>',
      '<label>Delay percent: <input id="f-delay" type="number" min="0" max="100" value="0"></label>',
      '<label>Delay: <input id="f-duration" value="100ms" size="8"></label>'], () => api('PUT',
      '/api/v1/routes/' + encodeURIComponent(name) + '/fault', f.active ? {} : {
        abort: { percent: Number($('f-abort').value), status: Number($('f-status').value) },
        delay: { percent: Number($('f-delay').value), duration: $('f-duration').value } }));
  }

  async function confirmDialog(ev) {
    ev.preventDefault();
    if (!dialogState.run) return;
    $('confirm-ok').disabled = true;
    try {
      await dialogState.run();
      $('confirm').close();
      dialogState.run = null;
      await refresh(true);
    } catch (e) {
      if (e.status === 401) { $('confirm').close(); sessionStorage.removeItem(TOKEN_KEY); showLogin('Refused: ' + e.message); return; }
      $('confirm-error').textContent = (e.status ? e.status + ': ' : '') + e.message;
    } finally {
      $('confirm-ok').disabled = false;
    }
  }

  // ---- wiring ----

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const t = $('token').value.trim();
      sessionStorage.setItem(TOKEN_KEY, t); // empty: an admin API without a token
      $('token').value = '';
      connect();
    });
    $('logout').addEventListener('click', () => { sessionStorage.removeItem(TOKEN_KEY); showLogin(''); });
    $('app').addEventListener('click', (ev) => {
      const btn = ev.target.closest('button[data-action]');
      if (btn) onAction(btn);
    });
    $('confirm-form').addEventListener('submit', confirmDialog);
    $('confirm-cancel').addEventListener('click', () => { dialogState.run = null; $('confirm').close(); });
    document.addEventListener('visibilitychange', () => { if (!document.hidden && timer !== null) tick(); });
    // No call before a token is given (a refused call would only log an error); with one from this tab's
    // session, connect at once.
    if (token() !== null) connect(); else showLogin('');
  });
})();
