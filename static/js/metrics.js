// Charts of the metrics API (docs/api.md "Metrics") with uPlot: the VM
// page (/vms/{id}) and the host page (/host) draw CPU, memory, disk and
// network for 1 h / 24 h / 7 d / 30 d, refreshed every 5 s while the page
// is open (a new point arrives every sampling interval); the dashboard (/)
// draws a CPU sparkline per VM. Nulls are gaps: uPlot leaves them open.
(function () {
  'use strict';
  const section = document.getElementById('metrics');
  if (!section || typeof uPlot === 'undefined') return;
  const L = section.dataset;
  const LIVE_MS = 5000;
  const vm = location.pathname.match(/^\/vms\/(\d+)$/);
  const isHost = location.pathname === '/host';
  const isDashboard = location.pathname === '/';
  let range = '1h';
  let charts = [];
  let timer = null;

  const colors = ['#1f5fbf', '#d9730d'];
  const charts_of = [
    { title: L.labelCpu, series: [['cpu_percent', 'CPU']] },
    { title: L.labelMemory, series: [['memory_used_mb', 'MiB']] },
    { title: L.labelDisk, series: [['disk_rd_bytes_per_s', L.labelRead], ['disk_wr_bytes_per_s', L.labelWrite]] },
    { title: L.labelNet, series: [['net_rx_bytes_per_s', L.labelRx], ['net_tx_bytes_per_s', L.labelTx]] },
  ];

  async function get(path) {
    const res = await fetch('/api/v1' + path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(String(res.status));
    return (await res.json()).data;
  }

  function width(el) { return Math.max(240, Math.floor(el.clientWidth || 600)); }

  function draw(m) {
    const box = document.getElementById('metrics-charts');
    const columns = charts_of.map((c) => [m.timestamps, ...c.series.map(([key]) => m.series[key])]);
    if (charts.length) {
      charts.forEach((u, i) => u.setData(columns[i]));
      return;
    }
    box.textContent = '';
    charts = charts_of.map((c, i) => {
      const el = document.createElement('div');
      el.className = 'metrics-chart';
      el.dataset.series = c.series.map(([key]) => key).join(' ');
      box.appendChild(el);
      return new uPlot({
        title: c.title, width: width(box) / 2 - 16, height: 180,
        scales: { x: { time: true } },
        series: [{}, ...c.series.map(([, label], k) => ({ label, stroke: colors[k], width: 1.5, spanGaps: false }))],
        axes: [{}, { size: 60 }],
      }, columns[i], el);
    });
  }

  function fmt(v) { return v === null ? '–' : (Math.round(v * 100) / 100).toLocaleString(); }

  async function report() {
    const table = document.getElementById('metrics-report');
    if (!vm) return;
    const r = await get(`/vms/${vm[1]}/performance?range=${range}`);
    const body = table.tBodies[0];
    body.textContent = '';
    for (const c of charts_of) {
      for (const [key, label] of c.series) {
        const s = r.series[key];
        const tr = body.insertRow();
        tr.dataset.series = key;
        tr.insertCell().textContent = c.series.length > 1 ? `${c.title} · ${label}` : c.title;
        for (const v of [s.avg, s.peak, s.p95]) tr.insertCell().textContent = fmt(v);
      }
    }
    table.hidden = false;
  }

  async function refresh() {
    try {
      const m = await get(vm ? `/vms/${vm[1]}/metrics?range=${range}` : `/host/metrics?range=${range}`);
      section.hidden = false;
      draw(m);
      section.dataset.updated = String(Date.now());
    } catch (e) {
      if (e.message === '403' || e.message === '404') { section.hidden = true; stop(); }
    }
  }

  function stop() { if (timer) clearInterval(timer); timer = null; }

  function start() {
    stop();
    refresh();
    report().catch(() => {});
    // Live while the page is open; the long ranges change slowly.
    timer = setInterval(() => {
      if (document.hidden) return;
      refresh();
      if (range !== '1h') report().catch(() => {});
    }, range === '1h' ? LIVE_MS : 60000);
  }

  async function sparklines() {
    const box = document.getElementById('metrics-charts');
    section.querySelector('.metrics-ranges').hidden = true;
    const draw_all = async () => {
      const m = await get('/vms/metrics?range=1h');
      if (!m.vms.length) return;
      section.hidden = false;
      for (const v of m.vms) {
        let row = box.querySelector(`[data-vm="${v.vm_id}"]`);
        const data = [v.timestamps, v.series.cpu_percent];
        if (row && row._u) { row._u.setData(data); continue; }
        row = document.createElement('div');
        row.className = 'metrics-sparkline';
        row.dataset.vm = String(v.vm_id);
        const a = document.createElement('a');
        a.href = `/vms/${v.vm_id}`;
        a.textContent = v.name;
        row.appendChild(a);
        box.appendChild(row);
        row._u = new uPlot({
          width: 160, height: 32, cursor: { show: false }, legend: { show: false },
          scales: { x: { time: true }, y: { range: [0, 100] } },
          axes: [{ show: false }, { show: false }],
          series: [{}, { stroke: colors[0], width: 1, fill: 'rgba(31,95,191,.15)' }],
        }, data, row);
      }
      section.dataset.updated = String(Date.now());
    };
    await draw_all().catch(() => {});
    timer = setInterval(() => { if (!document.hidden) draw_all().catch(() => {}); }, LIVE_MS);
  }

  if (isDashboard) { sparklines(); return; }
  if (!vm && !isHost) return;
  section.querySelectorAll('[data-range]').forEach((b) => b.addEventListener('click', () => {
    range = b.dataset.range;
    section.querySelectorAll('[data-range]').forEach((x) => x.classList.toggle('active', x === b));
    charts.forEach((u) => u.destroy());
    charts = [];
    start();
  }));
  start();
})();
