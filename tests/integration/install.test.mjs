// Installing VMManager like real software (issue 14): `make install`
// puts every file where configure said, systemd accepts the units, nginx
// the TLS site (HSTS, HTTP redirected, Secure cookies), and `tools/dev up`
// works from a private clone (/root, 0700) whose files no service user can
// read: they run from the install staged in the state dir.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { adminClient, BASE, STATE, stackPids, waitFor } from './lib.mjs';

const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const ADMIN_PASSWORD = process.env.VMM_ADMIN_PASSWORD;

/** A directory of the configured build (configure's choice: pkglibexecdir, ...). */
function makeVar(name) {
  return execFileSync('make', ['-s', '--no-print-directory', '-C', ROOT,
    '--eval=vmm-print-%: ; @echo $($*)', `vmm-print-${name}`], { encoding: 'utf8' }).trim();
}
const DIRS = Object.fromEntries(['prefix', 'pkglibexecdir', 'sbindir', 'pkgdatadir', 'localedir', 'sysconfdir',
  'systemdunitdir', 'tmpfilesdir', 'logrotatedir', 'nginxsitedir', 'vmmconfdir', 'vmmnginxdir']
  .map((n) => [n, makeVar(n)]));

/** A free TCP port on 127.0.0.1 (the kernel's choice, released again). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const files = (dir) => readdirSync(dir, { withFileTypes: true, recursive: true })
  .filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1));

let dest; // DESTDIR of one `make install`
const at = (path) => join(dest, path);

before(() => {
  dest = mkdtempSync('/tmp/vmm-install-');
  execFileSync('make', ['-s', '-C', ROOT, 'install', `DESTDIR=${dest}`], { stdio: ['ignore', 'ignore', 'inherit'] });
});
after(() => { if (dest) rmSync(dest, { recursive: true, force: true }); });

describe('make install', () => {
  test('puts the programs, admin commands, data, catalogs and config where configure said', () => {
    const programs = readdirSync(join(ROOT, 'cgi-bin')).filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2));
    assert.ok(programs.length > 10);
    for (const p of [...programs, 'vmm-helper', 'vmm-ova', 'vmm-scheduler']) {
      const st = statSync(at(`${DIRS.pkglibexecdir}/${p}`));
      assert.ok(st.mode & 0o111, `${p} is executable`);
    }
    for (const p of ['vmm-migrate', 'vmm-user', 'vmm-image', 'vmm-tls-cert'])
      assert.ok(statSync(at(`${DIRS.sbindir}/${p}`)).mode & 0o111, `${p} in sbindir`);
    for (const tree of ['templates', 'sql']) {
      const want = files(join(ROOT, tree)).sort();
      assert.deepEqual(files(at(`${DIRS.pkgdatadir}/${tree}`)).sort(), want, `all of ${tree}/`);
    }
    for (const f of ['static/css/app.css', 'static/vendor/tus.min.js', 'static/vendor/uPlot.iife.min.js',
      'static/vendor/novnc/core/rfb.js'])
      assert.ok(existsSync(at(`${DIRS.pkgdatadir}/${f}`)), f);
    assert.ok(existsSync(at(`${DIRS.localedir}/zh_CN/LC_MESSAGES/vmmanager.mo`)));
    // The installed config names the installed data, nothing of the tree.
    const conf = readFileSync(at(`${DIRS.vmmconfdir}/vmmanager.conf`), 'utf8');
    assert.match(conf, new RegExp(`^templates_dir=${DIRS.pkgdatadir}/templates$`, 'm'));
    assert.match(conf, new RegExp(`^locale_dir=${DIRS.localedir}$`, 'm'));
    assert.match(conf, new RegExp(`^sql_dir=${DIRS.pkgdatadir}/sql$`, 'm'));
    assert.doesNotMatch(conf, /@[A-Z_]+@/, 'every placeholder filled');
    assert.ok(!conf.includes(ROOT), 'nothing points into the source tree');
    for (const f of [`${DIRS.vmmnginxdir}/http.conf`, `${DIRS.vmmnginxdir}/server.conf`,
      `${DIRS.vmmnginxdir}/fastcgi.conf.inc`, `${DIRS.nginxsitedir}/vmmanager.conf`,
      `${DIRS.tmpfilesdir}/vmmanager.conf`, `${DIRS.logrotatedir}/vmmanager`]) {
      const text = readFileSync(at(f), 'utf8');
      assert.doesNotMatch(text, /@[A-Z_]+@/, `${f}: every placeholder filled`);
    }
  });

  test('make uninstall removes what make install put there', () => {
    const again = mkdtempSync('/tmp/vmm-uninstall-');
    try {
      execFileSync('make', ['-s', '-C', ROOT, 'install', `DESTDIR=${again}`], { stdio: 'ignore' });
      execFileSync('make', ['-s', '-C', ROOT, 'uninstall', `DESTDIR=${again}`], { stdio: 'ignore' });
      assert.deepEqual(files(again), []);
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  });
});

describe('systemd units', () => {
  test('systemd-analyze verify accepts every unit, each FastCGI instance included', () => {
    // No systemd runs here: verify offline against a root holding the
    // install, systemd's own units and the programs the units start.
    const root = mkdtempSync('/tmp/vmm-units-');
    try {
      execFileSync('cp', ['-a', `${dest}/.`, root]);
      mkdirSync(`${root}/usr/lib/systemd`, { recursive: true });
      execFileSync('cp', ['-a', '/lib/systemd/system', `${root}/usr/lib/systemd/`]);
      for (const bin of ['/usr/bin/spawn-fcgi', '/bin/sh', '/bin/rm']) {
        mkdirSync(dirname(`${root}${bin}`), { recursive: true });
        copyFileSync(bin, `${root}${bin}`);
      }
      const unitDir = `${root}${DIRS.systemdunitdir}`;
      const units = readdirSync(unitDir).filter((u) => !u.includes('@.'));
      assert.deepEqual(units.sort(), ['vmm-helper.service', 'vmm-live.service', 'vmm-scheduler.service', 'vmmanager.target']);
      const target = readFileSync(`${unitDir}/vmmanager.target`, 'utf8');
      const instances = [...target.matchAll(/vmm-fcgi@[a-z0-9-]+\.service/g)].map((m) => m[0]);
      const programs = readdirSync(join(ROOT, 'cgi-bin')).filter((f) => f.endsWith('.c'));
      assert.equal(instances.length, programs.length, 'the target wants one instance per FastCGI program');
      const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, '--man=no', ...units, ...instances],
        { cwd: unitDir, encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, `systemd-analyze verify: ${r.stdout}${r.stderr}`);
      assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'no warning either');
      // The helper keeps only the capabilities it uses; the scheduler none.
      const helper = readFileSync(`${unitDir}/vmm-helper.service`, 'utf8');
      assert.match(helper, /^CapabilityBoundingSet=CAP_/m);
      assert.doesNotMatch(helper, /CAP_SYS_MODULE|CAP_SYS_PTRACE|CAP_SYS_RAWIO|CAP_SYS_BOOT|CAP_MKNOD|CAP_SETPCAP/);
      for (const u of ['vmm-helper.service', 'vmm-scheduler.service', 'vmm-live.service', 'vmm-fcgi@.service']) {
        const text = readFileSync(`${unitDir}/${u}`, 'utf8');
        for (const k of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'ProtectHome=yes'])
          assert.ok(text.includes(`\n${k}\n`), `${u}: ${k}`);
      }
      assert.match(readFileSync(`${unitDir}/vmm-scheduler.service`, 'utf8'), /^User=vmm-sched$/m);
      assert.match(readFileSync(`${unitDir}/vmm-scheduler.service`, 'utf8'), /^CapabilityBoundingSet=$/m);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('systemd-analyze verify refuses a broken unit (the check above can fail)', () => {
    const dir = mkdtempSync('/tmp/vmm-badunit-');
    try {
      writeFileSync(`${dir}/vmm-broken.service`, '[Service]\nExecStart=relative/path\nNoSuchKey=1\n');
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', `${dir}/vmm-broken.service`], { encoding: 'utf8' });
      assert.ok(r.status !== 0 || `${r.stdout}${r.stderr}`.trim() !== '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** GET or POST over TLS to a self-signed server; resolves { status, headers, body }. */
function httpsCall(port, method, path, body) {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, method, path, rejectUnauthorized: false,
      headers: body ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } : {},
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

describe('the nginx site of an install', () => {
  let dir;
  let pidFile;
  let httpPort;
  let httpsPort;

  before(async () => {
    // The installed site file around this stack's http.conf/server.conf
    // (tools/dev filled them for the test stack), on free loopback ports,
    // with a certificate made by the installed vmm-tls-cert.
    dir = mkdtempSync('/tmp/vmm-site-');
    [httpPort, httpsPort] = [await freePort(), await freePort()];
    const r = spawnSync(at(`${DIRS.sbindir}/vmm-tls-cert`), [], {
      env: { ...process.env, VMM_TLS_DIR: `${dir}/tls` }, encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /WARNING: .*SELF-SIGNED certificate/s, 'the admin is told it is self-signed');
    let site = readFileSync(join(ROOT, 'deploy/nginx/vmmanager.conf.in'), 'utf8')
      .replaceAll('@NGINX_DIR@', `${STATE}/nginx.d`).replaceAll('@CONF_DIR@', dir).replaceAll('@LOG_DIR@', dir)
      .replace(/listen \[::\]:\d+[^;]*;\n/g, '')
      .replace('listen 80;', `listen 127.0.0.1:${httpPort};`)
      .replace('listen 443 ssl', `listen 127.0.0.1:${httpsPort} ssl`);
    assert.doesNotMatch(site.replace(/^#.*$/gm, ''), /@[A-Z_]+@/);
    writeFileSync(`${dir}/site.conf`, site);
    pidFile = `${dir}/nginx.pid`;
    mkdirSync(`${dir}/tmp`);
    writeFileSync(`${dir}/nginx.conf`, `user www-data;
pid ${pidFile};
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    gzip on;
    client_body_temp_path ${dir}/tmp/body;
    proxy_temp_path ${dir}/tmp/proxy;
    fastcgi_temp_path ${dir}/tmp/fastcgi;
    uwsgi_temp_path ${dir}/tmp/uwsgi;
    scgi_temp_path ${dir}/tmp/scgi;
    include ${dir}/site.conf;
}
`);
    execFileSync('nginx', ['-t', '-q', '-p', `${dir}/`, '-c', `${dir}/nginx.conf`], { stdio: 'inherit' });
    execFileSync('nginx', ['-p', `${dir}/`, '-c', `${dir}/nginx.conf`], { stdio: 'inherit' });
    await waitFor(() => existsSync(pidFile), 10_000, 50);
  });

  after(() => {
    if (pidFile && existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8'));
      if (pid > 1) process.kill(pid, 'SIGTERM');
    }
    if (dir) setTimeout(() => rmSync(dir, { recursive: true, force: true }), 1000).unref();
  });

  test('plain HTTP only redirects to HTTPS', async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/login`, { redirect: 'manual' });
    assert.equal(res.status, 301);
    assert.equal(res.headers.get('location'), 'https://127.0.0.1/login');
  });

  test('HTTPS serves the portal with HSTS, and its cookies are Secure', async () => {
    const page = await httpsCall(httpsPort, 'GET', '/login');
    assert.equal(page.status, 200);
    assert.match(page.headers['strict-transport-security'] ?? '', /max-age=31536000/);
    const login = await httpsCall(httpsPort, 'POST', '/api/v1/auth/login',
      JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }));
    assert.equal(login.status, 200, login.body);
    const cookies = login.headers['set-cookie'] ?? [];
    assert.ok(cookies.length > 0);
    for (const c of cookies) assert.match(c, /; Secure/, c);
    // The dev stack (plain HTTP on loopback) sets them without Secure.
    const plain = await fetch(`${BASE}/api/v1/auth/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    assert.equal(plain.status, 200);
    assert.doesNotMatch(plain.headers.get('set-cookie') ?? '', /Secure/);
  });
});

/** libvirt's storage pools (vmm-*, the helper's) that keep their files under DIR, removed. */
function forgetPools(dir) {
  const virsh = (...args) => spawnSync('virsh', ['-q', '-c', 'qemu:///system', ...args], { encoding: 'utf8' });
  for (const name of virsh('pool-list', '--all', '--name').stdout.split('\n').map((n) => n.trim())) {
    if (!name.startsWith('vmm-')) continue;
    const path = /<path>([^<]*)<\/path>/.exec(virsh('pool-dumpxml', name).stdout)?.[1] ?? '';
    if (!path.startsWith(`${dir}/`)) continue;
    virsh('pool-destroy', name);
    virsh('pool-undefine', name);
  }
}

describe('tools/dev from a private clone', () => {
  test('the stack starts from a clone under /root (0700) and runs only staged files', { timeout: 900_000 }, async () => {
    assert.equal(statSync('/root').mode & 0o777, 0o700, '/root is private, as on Debian');
    // A copy of this tree with its build (make has nothing to redo) and the
    // cached guest images, not its state.
    const clone = mkdtempSync('/root/vmm-private-clone-');
    const port = await freePort();
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VMM_')));
    Object.assign(env, { VMM_PORT: String(port), VMM_HELPER_ACCEL: 'qemu', VMM_WORKERS: '1', VMM_UPLOAD_WORKERS: '1' });
    const dev = (cmd) => spawnSync(`${clone}/tools/dev`, [cmd], { cwd: clone, env, encoding: 'utf8', timeout: 600_000 });
    const state = `/var/lib/vmmanager-dev/${clone.slice(1).replaceAll('/', '_')}`;
    try {
      execFileSync('sh', ['-c', `tar -C "$0" --exclude=./var --exclude=./test-output -cf - . | tar -C "$1" -xf -
        mkdir -p "$1/var" && cp -a "$0/var/images" "$1/var/"`, ROOT, clone]);
      const up = dev('up');
      assert.equal(up.status, 0, `tools/dev up in ${clone}:\n${up.stdout}\n${up.stderr}`);
      assert.match(up.stdout, new RegExp(`VMManager runs at http://127.0.0.1:${port}/`));
      const res = await fetch(`http://127.0.0.1:${port}/login`);
      assert.equal(res.status, 200, 'the login page answers');
      assert.match(await res.text(), /<form/);
      // Each unprivileged program of that stack runs from its staged install.
      const config = `${state}/vmmanager.conf`;
      let seen = 0;
      for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
        let argv0;
        let environ;
        try {
          argv0 = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')[0];
          environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
        } catch {
          continue;
        }
        if (!environ.includes(`VMM_CONFIG=${config}`) || !/\/vmm-[a-z-]+$/.test(argv0)) continue;
        assert.ok(argv0.startsWith(`${state}/install/`), `${argv0} runs from the staged install`);
        assert.ok(!argv0.startsWith(clone));
        seen++;
      }
      assert.ok(seen > 5, `found the stack's programs (${seen})`);
    } finally {
      const down = dev('down');
      assert.equal(down.status, 0, `tools/dev down: ${down.stdout}${down.stderr}`);
      forgetPools(state);
      rmSync(clone, { recursive: true, force: true });
      rmSync(state, { recursive: true, force: true });
    }
    // The test stack itself is untouched.
    assert.equal(stackPids('vmm-helper').length, 1);
    assert.equal((await (await adminClient()).api('GET', '/me')).status, 200);
  });
});
