// Metrics (issue 11): the helper samples the host and running VMs every
// [metrics] interval_s (tools/dev test: 2 s) into one RRD file each; the
// API gives series, a performance report and the Prometheus exposition.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import {
  adminClient, assertError, Client, createVmDone, dataOf, helperPids, PROGRAM_DIR, sql, STATE, userClient, waitFor,
} from './lib.mjs';

const CONFIG = `${STATE}/vmmanager.conf`;
const INTERVAL_S = Number(process.env.VMM_METRICS_INTERVAL_S || 10);
const BOOT_DEADLINE_MS = 120_000;
const SERIES = ['cpu_percent', 'memory_used_mb', 'disk_rd_bytes_per_s', 'disk_wr_bytes_per_s',
  'net_rx_bytes_per_s', 'net_tx_bytes_per_s'];

let admin;
let templateId;
const cleanup = [];

before(async () => {
  admin = await adminClient();
  templateId = Number(sql("SELECT id FROM templates WHERE name = 'Demo (busybox)'")[0][0]);
});

after(async () => {
  for (const id of cleanup) await admin.api('DELETE', `/vms/${id}?delete_disks=true`);
});

const known = (list) => list.filter((v) => v !== null);
const serialLog = (domain) => {
  const path = `${STATE}/pool/consoles/${domain}.log`;
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
};


const parentOf = (pid) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);

async function stopHelper() {
  // The helper itself, not a child it forked for a moment (a sandbox).
  const pids = helperPids();
  const main = pids.filter((p) => !pids.includes(parentOf(p)));
  assert.ok(main.length >= 1, 'a helper runs for this stack');
  if (main.length > 1) {
    const about = main.map((p) => `${p} (parent ${parentOf(p)})`).join(', ');
    console.log(`# more than one helper process for this stack: ${about}`);
  }
  for (const p of main) process.kill(p, 'SIGTERM');
  await waitFor(() => helperPids().length === 0, 10_000, 50);
  rmSync(`${STATE}/run/vmm-helper.sock`, { force: true });
}

async function startHelper() {
  const log = openSync(`${STATE}/log/vmm-helper.log`, 'a');
  const child = spawn(`${PROGRAM_DIR}/vmm-helper`, [], {
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'VMM_ADMIN_PASSWORD')),
      VMM_CONFIG: CONFIG, VMM_DATABASE_USER: 'root',
    },
    detached: true,
    stdio: ['ignore', log, log],
  });
  child.unref();
  closeSync(log);
  await waitFor(async () => (await admin.api('GET', '/host')).status === 200, 30_000, 200);
  assert.ok(statSync(`${STATE}/run/vmm-helper.sock`));
}

describe('host metrics', () => {
  test('the host is sampled: CPU, memory, disk and network series, admins only', async () => {
    const series = await waitFor(async () => {
      const s = dataOf(await admin.api('GET', '/host/metrics?range=1h')).series;
      return known(s.cpu_percent).length >= 2 && s;
    }, 20 * INTERVAL_S * 1000, 500);
    for (const name of [...SERIES, 'memory_total_mb']) assert.ok(name in series, name);
    const cpu = known(series.cpu_percent);
    assert.ok(cpu.every((v) => v >= 0 && v <= 100), `CPU is a percentage: ${cpu}`);
    const total = known(series.memory_total_mb).at(-1);
    const used = known(series.memory_used_mb).at(-1);
    assert.ok(used > 0 && used < total, `memory ${used} of ${total} MiB`);

    const { client } = await userClient(admin);
    assertError(await client.api('GET', '/host/metrics'), 403, 'forbidden');
    assertError(await new Client().api('GET', '/host/metrics'), 401, 'unauthenticated');
  });

  test('samples survive a helper restart, and the time it was down is a gap', async () => {
    const before = dataOf(await admin.api('GET', '/host/metrics?range=1h'));
    const stoppedAt = Math.floor(Date.now() / 1000);
    await stopHelper();
    // Down for four intervals: at least two steps get no sample.
    await new Promise((r) => setTimeout(r, 4 * INTERVAL_S * 1000));
    await startHelper();
    const restartedAt = Math.floor(Date.now() / 1000);
    const after = await waitFor(async () => {
      const m = dataOf(await admin.api('GET', '/host/metrics?range=1h'));
      const last = m.timestamps.findLastIndex((t, i) => m.series.memory_used_mb[i] !== null);
      return m.timestamps[last] > restartedAt && m;
    }, 10 * INTERVAL_S * 1000, 500);
    const at = (m, t) => m.series.memory_used_mb[m.timestamps.indexOf(t)];
    // What was kept before the stop is still there.
    const keptBefore = before.timestamps.filter((t, i) => t < stoppedAt - INTERVAL_S &&
      before.series.memory_used_mb[i] !== null);
    assert.ok(keptBefore.length > 0);
    for (const t of keptBefore) assert.notEqual(at(after, t), null, `sample at ${t} kept`);
    // The time it was down: nulls, not a line drawn across.
    const gap = after.timestamps.filter((t) => t > stoppedAt + INTERVAL_S && t < restartedAt - INTERVAL_S);
    assert.ok(gap.length >= 1, 'steps inside the gap');
    for (const t of gap) assert.equal(at(after, t), null, `no sample at ${t}: a gap`);
  });

  test('bad ranges are a 400', async () => {
    assertError(await admin.api('GET', '/host/metrics?range=2h'), 400, 'invalid_range');
    assertError(await admin.api('GET', '/host/metrics?from=yesterday'), 400, 'invalid_time');
    assertError(await admin.api('GET', '/host/metrics?from=2000&to=1000'), 400, 'invalid_time');
    assertError(await admin.api('GET', '/host/metrics?step=0'), 400, 'invalid_step');
    const m = dataOf(await admin.api('GET', '/host/metrics?from=2026-01-01T00:00:00Z&to=2026-01-01T01:00:00Z'));
    assert.equal(m.from <= Date.parse('2026-01-01T00:00:00Z') / 1000, true);
  });
});

describe('VM metrics', () => {
  let a;
  let b;
  let vm;

  before(async () => {
    a = await userClient(admin);
    b = await userClient(admin);
    const made = await createVmDone(a.client, {
      name: 'watched', template_id: templateId, vcpus: 1, memory_mb: 256, disk_gb: 1,
    });
    assert.equal(made.status, 201, made.text);
    cleanup.push(dataOf(made.res).id);
    assert.equal(made.job.state, 'succeeded', made.job.message);
    vm = made.vm;
  });

  test('a running VM is sampled; its owner and admins see the series, others get 404', async () => {
    const domain = sql(`SELECT domain_name FROM vms WHERE id = ${vm.id}`)[0][0];
    await waitFor(() => serialLog(domain).includes('VMM-TEST: ready'), BOOT_DEADLINE_MS, 500);
    const m = await waitFor(async () => {
      const d = dataOf(await a.client.api('GET', `/vms/${vm.id}/metrics?range=1h`));
      return known(d.series.cpu_percent).length >= 2 && d;
    }, 20 * INTERVAL_S * 1000, 500);
    assert.equal(m.vm_id, vm.id);
    assert.deepEqual(Object.keys(m.series).sort(), [...SERIES].sort());
    assert.equal(m.timestamps.length, m.series.cpu_percent.length);
    assert.equal(m.step, INTERVAL_S, 'the last hour at the sampling interval');
    const cpu = known(m.series.cpu_percent);
    assert.ok(cpu.every((v) => v >= 0 && v <= 100), `CPU ${cpu}`);
    const mem = known(m.series.memory_used_mb).at(-1);
    assert.ok(mem > 0 && mem < 1024, `memory used ${mem} MiB of a 256 MiB guest`);
    // The guest read its disk while booting.
    assert.ok(known(m.series.disk_rd_bytes_per_s).length > 0);

    dataOf(await admin.api('GET', `/vms/${vm.id}/metrics`));
    assertError(await b.client.api('GET', `/vms/${vm.id}/metrics`), 404, 'not_found');
    assertError(await b.client.api('GET', `/vms/${vm.id}/performance`), 404, 'not_found');
  });

  test('one call for many VMs: the caller\'s own by default, any visible by ids', async () => {
    const mine = dataOf(await a.client.api('GET', '/vms/metrics?range=1h'));
    assert.deepEqual(mine.vms.map((v) => v.vm_id), [vm.id]);
    assert.equal(mine.vms[0].name, 'watched');
    assert.ok(known(mine.vms[0].series.cpu_percent).length > 0);
    assert.deepEqual(dataOf(await b.client.api('GET', '/vms/metrics')).vms, []);
    const byAdmin = dataOf(await admin.api('GET', `/vms/metrics?ids=${vm.id}`));
    assert.deepEqual(byAdmin.vms.map((v) => v.vm_id), [vm.id]);
    assertError(await b.client.api('GET', `/vms/metrics?ids=${vm.id}`), 404, 'not_found');
    assertError(await a.client.api('GET', '/vms/metrics?ids=1,x'), 400, 'invalid_ids');
  });

  test('the performance report: average, peak and 95th percentile per series', async () => {
    for (const range of ['1h', '24h', '7d', '30d']) {
      const report = dataOf(await a.client.api('GET', `/vms/${vm.id}/performance?range=${range}`));
      assert.equal(report.range, range);
      assert.deepEqual(Object.keys(report.series).sort(), [...SERIES].sort());
      const cpu = report.series.cpu_percent;
      if (range === '1h') assert.ok(cpu.samples > 0, 'samples in the last hour');
      if (cpu.samples > 0) {
        assert.ok(cpu.avg <= cpu.peak && cpu.p95 <= cpu.peak && cpu.avg >= 0, JSON.stringify(cpu));
      } else {
        assert.equal(cpu.avg, null);
      }
    }
  });

  test('Prometheus exposition at /metrics passes promtool, with this VM labelled', async () => {
    await waitFor(async () => (await admin.request('GET', '/metrics')).text.includes(`vm_id="${vm.id}"`),
      10 * INTERVAL_S * 1000, 500);
    const res = await new Client().request('GET', '/metrics');   // anonymous, from loopback
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    assert.match(res.text, /^vmm_host_cpu_usage_ratio [0-9.e+-]+$/m);
    // CPU comes from the cgroup and is there every cycle; a series that needs
    // the guest's monitor (memory, disks) may miss a cycle while it is busy.
    assert.match(res.text, new RegExp(`^vmm_vm_cpu_usage_ratio\\{vm_id="${vm.id}",vm_name="watched",owner="[^"]+"\\} [0-9.e+-]+$`, 'm'));
    const lint = execFileSync('promtool', ['check', 'metrics'], { input: res.text, encoding: 'utf8' });
    assert.equal(lint.trim(), '', `promtool: ${lint}`);
  });

  test('a deleted VM\'s samples go with it', async () => {
    const file = `${STATE}/metrics/vm-${vm.id}.rrd`;
    assert.ok(existsSync(file));
    // Fixed size: 6 series x 8 bytes x the rows of the four archives (at
    // the default 10 s: 3748 rows, 180 KB; docs/api.md).
    const rows = Math.floor(3900 / INTERVAL_S) + 1500 + 1488 + 370;
    const size = statSync(file).size;
    assert.ok(size >= rows * 48 && size <= rows * 48 + 4096, `${size} bytes for ${rows} rows`);
    if (INTERVAL_S >= 10) assert.ok(size <= 200 * 1024, `${size} bytes a VM`);
    dataOf(await a.client.api('DELETE', `/vms/${vm.id}?delete_disks=true`));
    assert.ok(!existsSync(file));
  });
});
