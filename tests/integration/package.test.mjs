// The Debian package (issue 14): dpkg-buildpackage in the release tree
// (make distdir, as from the tarball), lintian finds no error, and the
// package installs into a Debian 12 chroot where the portal answers over
// HTTPS with its services started by hand (package-chroot.sh says why a
// chroot). The debootstrap base and the downloaded .debs are cached in
// var/debootstrap/ (like var/images): only the first run downloads much.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const CACHE = join(ROOT, 'var/debootstrap');
const BASE = join(CACHE, 'bookworm-minbase.tar');
const VERSION = execFileSync('make', ['-s', '--no-print-directory', '-C', ROOT,
  '--eval=vmm-print-%: ; @echo $($*)', 'vmm-print-VERSION'], { encoding: 'utf8' }).trim();

let work;
let deb;

before(() => {
  work = mkdtempSync('/tmp/vmm-package-');
  const src = join(work, `vmmanager-${VERSION}`);
  execFileSync('make', ['-s', '-C', ROOT, 'distdir', `distdir=${src}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  const r = spawnSync('dpkg-buildpackage', ['-b', '-us', '-uc'], {
    cwd: src, encoding: 'utf8', timeout: 1_800_000, maxBuffer: 256 << 20,
    env: { ...process.env, DEB_BUILD_OPTIONS: 'parallel=2 nocheck' },
  });
  assert.equal(r.status, 0, `dpkg-buildpackage:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  deb = join(work, readdirSync(work).find((f) => /^vmmanager_.*\.deb$/.test(f)));
});
after(() => { if (work) rmSync(work, { recursive: true, force: true }); });

test('lintian finds no error in the package', () => {
  const r = spawnSync('lintian', ['--fail-on', 'error', deb], { encoding: 'utf8', timeout: 600_000 });
  assert.equal(r.status, 0, `lintian:\n${r.stdout}${r.stderr}`);
  assert.doesNotMatch(r.stdout, /^E: /m);
});

test('the package holds the programs, data, units and the nginx site; the config is a conffile', () => {
  const list = execFileSync('dpkg-deb', ['-c', deb], { encoding: 'utf8', maxBuffer: 64 << 20 });
  for (const path of ['./usr/libexec/vmmanager/vmm-helper', './usr/libexec/vmmanager/vmm-auth',
    './usr/libexec/vmmanager/vmm-ova', './usr/libexec/vmmanager/vmm-scheduler', './usr/sbin/vmm-migrate',
    './usr/sbin/vmm-user', './usr/sbin/vmm-tls-cert', './usr/share/vmmanager/templates/',
    './usr/share/vmmanager/sql/001_users.sql', './usr/share/vmmanager/static/css/app.css',
    './usr/share/locale/zh_CN/LC_MESSAGES/vmmanager.mo', './etc/nginx/sites-available/vmmanager.conf',
    './lib/systemd/system/vmm-helper.service', './lib/systemd/system/vmm-fcgi@.service',
    './usr/lib/tmpfiles.d/vmmanager.conf', './etc/logrotate.d/vmmanager'])
    assert.ok(list.includes(` ${path}`), `${path} is in the package`);
  const conffiles = execFileSync('dpkg-deb', ['-I', deb, 'conffiles'], { encoding: 'utf8' });
  assert.match(conffiles, /^\/etc\/vmmanager\/vmmanager\.conf$/m);
});

test('it installs into a Debian 12 chroot; the portal answers over HTTPS; purge keeps the data', { timeout: 2_400_000 }, () => {
  if (!existsSync(BASE)) {
    mkdirSync(CACHE, { recursive: true });
    const dir = join(work, 'debootstrap');
    execFileSync('debootstrap', ['--variant=minbase', '--include=ca-certificates,curl,debconf', 'bookworm', dir,
      'http://deb.debian.org/debian'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 1_200_000 });
    execFileSync('tar', ['-C', dir, '-cf', `${BASE}.tmp`, '.']);
    renameSync(`${BASE}.tmp`, BASE);
    rmSync(dir, { recursive: true, force: true });
  }
  const r = spawnSync(join(ROOT, 'tests/integration/package-chroot.sh'), [deb, BASE, join(CACHE, 'archives'), work], {
    encoding: 'utf8', timeout: 2_300_000, maxBuffer: 256 << 20,
  });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, `package-chroot.sh:\n${out.slice(-6000)}`);
  for (const step of ['installed', 'accounts', 'redirect', 'login page', 'admin logged in', 'purge kept the data'])
    assert.ok(out.includes(`PORTAL-OK ${step}`), step);
});
