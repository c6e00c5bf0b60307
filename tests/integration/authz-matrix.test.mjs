// The authorization matrix: every route of every program (as the programs
// themselves list them: VMM_LIST_ROUTES=1 cgi-bin/vmm-*), on each of its
// surfaces (the page and /api/v1), asked by {anonymous, user A, user B,
// admin}, against the table of expected statuses below. Path ids name
// objects of user A (their VM, job, token, session) or, for the user
// admin routes, of a third user C.
//
// Requests must change nothing: a mutating request carries a body with
// an unknown field (the "probe"), so whoever passes the permission and
// CSRF checks gets the 400 of input validation (415 for raw-body routes).
// Where a row gives `bBody`, user B sends that valid body instead, so the
// handler really runs and must answer 404 for A's object: a real attempt
// to touch someone else's VM, job, token or session.
//
// Also checked on the way: every mutating request that reaches a route
// leaves exactly one audit row (refused ones too).
//
// A new route without a row here fails the test, naming the missing row:
// add one line "SURFACE METHOD pattern": { anon, a, b, admin } (statuses
// of anonymous, A, B, admin; pages answer 303 to the login page where the
// API says 401).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import {
  Client, STATE, adminClient, createUser, programRoutes, q, sql, userClient, uniqueName,
} from './lib.mjs';

const TUS = { 'Tus-Resumable': '1.0.0' };

const EXPECTED = {
  // vmm-auth
  'PAGE GET /login': { anon: 200, a: 303, b: 303, admin: 303 },
  'PAGE POST /login': { anon: 403, a: 400, b: 400, admin: 400 },
  'API POST /auth/login': { anon: 400, a: 400, b: 400, admin: 400 },
  'PAGE POST /logout': { anon: 303, a: 400, b: 400, admin: 400 },
  'API POST /auth/logout': { anon: 401, a: 400, b: 400, admin: 400 },
  'API GET /auth/me': { anon: 401, a: 200, b: 200, admin: 200 },
  'PAGE GET /register': { anon: 403, a: 403, b: 403, admin: 403 },
  'PAGE POST /register': { anon: 403, a: 400, b: 400, admin: 400 },
  'API POST /auth/register': { anon: 400, a: 400, b: 400, admin: 400 },
  'PAGE POST /language': { anon: 403, a: 400, b: 400, admin: 400 },
  // vmm-dashboard
  'PAGE GET /': { anon: 303, a: 200, b: 200, admin: 200 },
  'API GET /dashboard': { anon: 401, a: 200, b: 200, admin: 200 },
  // vmm-users
  'API GET /users': { anon: 401, a: 403, b: 403, admin: 200 },
  'PAGE GET /users': { anon: 303, a: 403, b: 403, admin: 200 },
  'API POST /users': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /users': { anon: 303, a: 403, b: 403, admin: 400 },
  'API GET /users/{id:int}': { anon: 401, a: 403, b: 403, admin: 200 },
  'PAGE GET /users/{id:int}': { anon: 303, a: 403, b: 403, admin: 200 },
  'API PATCH /users/{id:int}': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /users/{id:int}': { anon: 303, a: 403, b: 403, admin: 400 },
  'PAGE POST /users/{id:int}/password': { anon: 303, a: 403, b: 403, admin: 400 },
  'API DELETE /users/{id:int}': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /users/{id:int}/delete': { anon: 303, a: 403, b: 403, admin: 400 },
  'API GET /users/{id:int}/quota': { anon: 401, a: 403, b: 403, admin: 200 },
  'API PUT /users/{id:int}/quota': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /users/{id:int}/quota': { anon: 303, a: 403, b: 403, admin: 400 },
  'API GET /settings': { anon: 401, a: 403, b: 403, admin: 200 },
  'PAGE GET /settings': { anon: 303, a: 403, b: 403, admin: 200 },
  'API PATCH /settings': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /settings': { anon: 303, a: 403, b: 403, admin: 400 },
  // vmm-host
  'API GET /host': { anon: 401, a: 200, b: 200, admin: 200 },
  'PAGE GET /host': { anon: 303, a: 200, b: 200, admin: 200 },
  'API GET /host/reconcile': { anon: 401, a: 403, b: 403, admin: 200 },
  'API GET /host/cpu-models': { anon: 401, a: 200, b: 200, admin: 200 },
  'API POST /host/reconcile': { anon: 401, a: 403, b: 403, admin: 400 },
  // issue 19: the libvirt hosts (administrators only; {id} is host 1, the local one)
  'API GET /hosts': { anon: 401, a: 403, b: 403, admin: 200 },
  'PAGE GET /hosts': { anon: 303, a: 403, b: 403, admin: 200 },
  'API POST /hosts': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /hosts': { anon: 303, a: 403, b: 403, admin: 400 },
  'API GET /hosts/{id:int}': { anon: 401, a: 403, b: 403, admin: 200 },
  'API PATCH /hosts/{id:int}': { anon: 401, a: 403, b: 403, admin: 400 },
  'API DELETE /hosts/{id:int}': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /hosts/{id:int}/delete': { anon: 303, a: 403, b: 403, admin: 400 },
  // vmm-vms
  'API GET /vms': { anon: 401, a: 200, b: 200, admin: 200 },
  'PAGE GET /vms': { anon: 303, a: 200, b: 200, admin: 200 },
  'API POST /vms': { anon: 401, a: 400, b: 400, admin: 400 },
  'PAGE GET /vms/new': { anon: 303, a: 200, b: 200, admin: 200 },
  'PAGE POST /vms/new': { anon: 303, a: 400, b: 400, admin: 400 },
  'PAGE GET /vms/install': { anon: 303, a: 200, b: 200, admin: 200 },
  'PAGE POST /vms/install': { anon: 303, a: 400, b: 400, admin: 400 },
  'API GET /vms/{id:int}': { anon: 401, a: 200, b: 404, admin: 200 },
  'PAGE GET /vms/{id:int}': { anon: 303, a: 200, b: 404, admin: 200 },
  'API GET /vms/{id:int}/history': { anon: 401, a: 200, b: 404, admin: 200 },
  // A's VM was made without an automated install: 404 no_install for all who may see it
  'API GET /vms/{id:int}/install': { anon: 401, a: 404, b: 404, admin: 404 },
  'API POST /vms/batch': { anon: 401, a: 400, b: 400, admin: 400 },
  'PAGE POST /vms/batch': { anon: 303, a: 400, b: 400, admin: 400 },
  'API PATCH /vms/{id:int}': { anon: 401, a: 400, b: 404, admin: 400, bBody: { name: 'stolen' } },
  'API DELETE /vms/{id:int}': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'PAGE POST /vms/{id:int}/delete': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
  'PAGE POST /vms/{id:int}/graphics': { anon: 303, a: 400, b: 404, admin: 400, bBody: { graphics: 'vnc' } },
  // issue 19: migration is for administrators, whoever owns the VM
  'API POST /vms/{id:int}/migrate/check': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /vms/{id:int}/migrate/check': { anon: 303, a: 403, b: 403, admin: 400 },
  'API POST /vms/{id:int}/migrate': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /vms/{id:int}/migrate': { anon: 303, a: 403, b: 403, admin: 400 },
  'API POST /vms/{id:int}/{action}': { anon: 401, a: 400, b: 404, admin: 400, bBody: { force: true } },
  'PAGE POST /vms/{id:int}/{action}': { anon: 303, a: 400, b: 404, admin: 400, bBody: { force: 'true' } },
  // vmm-snapshots (A's VM has no domain: the list is its rows alone; {sid} is
  // the same number as the VM's id, a snapshot B cannot reach either way)
  'API GET /vms/{id:int}/snapshots': { anon: 401, a: 200, b: 404, admin: 200 },
  'PAGE GET /vms/{id:int}/snapshots': { anon: 303, a: 200, b: 404, admin: 200 },
  'API POST /vms/{id:int}/snapshots': { anon: 401, a: 400, b: 404, admin: 400, bBody: { name: 'stolen' } },
  'PAGE POST /vms/{id:int}/snapshots': { anon: 303, a: 400, b: 404, admin: 400, bBody: { name: 'stolen' } },
  'API POST /vms/{id:int}/snapshots/merge': { anon: 401, a: 400, b: 404, admin: 400, bBody: { source: 1, target: 2 } },
  'API POST /vms/{id:int}/snapshots/{sid:int}/revert': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'PAGE POST /vms/{id:int}/snapshots/{sid:int}/revert': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
  'API PATCH /vms/{id:int}/snapshots/{sid:int}': { anon: 401, a: 400, b: 404, admin: 400, bBody: { pinned: true } },
  'API DELETE /vms/{id:int}/snapshots/{sid:int}': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'PAGE POST /vms/{id:int}/snapshots/{sid:int}/delete': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
  // vmm-backups ({bid} is A's backup row: B reaches it neither way)
  'API GET /backups': { anon: 401, a: 200, b: 200, admin: 200 },
  'PAGE GET /backups': { anon: 303, a: 200, b: 200, admin: 200 },
  'API GET /backups/{bid:int}': { anon: 401, a: 200, b: 404, admin: 200 },
  'API POST /backups/{bid:int}/restore': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'PAGE POST /backups/{bid:int}/restore': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
  'API DELETE /backups/{bid:int}': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'PAGE POST /backups/{bid:int}/delete': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
  'API GET /vms/{id:int}/backups': { anon: 401, a: 200, b: 404, admin: 200 },
  'PAGE GET /vms/{id:int}/backups': { anon: 303, a: 200, b: 404, admin: 200 },
  'API POST /vms/{id:int}/backups': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'PAGE POST /vms/{id:int}/backups': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
  'API GET /vms/{id:int}/backup-policy': { anon: 401, a: 200, b: 404, admin: 200 },
  'API PUT /vms/{id:int}/backup-policy': { anon: 401, a: 400, b: 404, admin: 400, bBody: { schedule: '0 2 * * *', keep: 7 } },
  'PAGE POST /vms/{id:int}/backup-policy': { anon: 303, a: 400, b: 404, admin: 400, bBody: { schedule: '0 2 * * *', keep: '7' } },
  'API POST /vms/{id:int}/clone': { anon: 401, a: 400, b: 404, admin: 400, bBody: { name: 'stolen' } },
  'API POST /vms/{id:int}/export': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'API GET /vms/{id:int}/exports/{job:int}': { anon: 401, a: 404, b: 404, admin: 404 },
  // issue 19: A's OVA import waiting for its review (a row only)
  'API GET /vms/imports/{iid:int}': { anon: 401, a: 200, b: 404, admin: 200 },
  'PAGE GET /vms/imports/{iid:int}': { anon: 303, a: 200, b: 404, admin: 200 },
  'API POST /vms/imports/{iid:int}': { anon: 401, a: 400, b: 404, admin: 400, bBody: { name: 'stolen' } },
  'PAGE POST /vms/imports/{iid:int}/create': { anon: 303, a: 400, b: 404, admin: 400, bBody: { name: 'stolen' } },
  'API DELETE /vms/imports/{iid:int}': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'PAGE POST /vms/imports/{iid:int}/discard': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
  'API GET /vms/{id:int}/snapshot-policy': { anon: 401, a: 200, b: 404, admin: 200 },
  'API PUT /vms/{id:int}/snapshot-policy': { anon: 401, a: 400, b: 404, admin: 400, bBody: { schedule: '0 2 * * *', keep: 7 } },
  'PAGE POST /vms/{id:int}/snapshot-policy': { anon: 303, a: 400, b: 404, admin: 400, bBody: { schedule: '0 2 * * *', keep: '7' } },
  // vmm-hardware (A's VM is a stopped row; B's valid bodies must meet a 404)
  'API GET /vms/{id:int}/disks': { anon: 401, a: 200, b: 404, admin: 200 },
  'API POST /vms/{id:int}/disks': { anon: 401, a: 400, b: 404, admin: 400, bBody: { size_gb: 1 } },
  'PAGE POST /vms/{id:int}/disks': { anon: 303, a: 400, b: 404, admin: 400, bBody: { size_gb: '1' } },
  'API POST /vms/{id:int}/disks/{target}/resize': { anon: 401, a: 400, b: 404, admin: 400, bBody: { size_gb: 2 } },
  'PAGE POST /vms/{id:int}/disks/{target}/resize': { anon: 303, a: 400, b: 404, admin: 400, bBody: { size_gb: '2' } },
  'API DELETE /vms/{id:int}/disks/{target}': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'PAGE POST /vms/{id:int}/disks/{target}/delete': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
  'API GET /vms/{id:int}/interfaces': { anon: 401, a: 200, b: 404, admin: 200 },
  'API POST /vms/{id:int}/interfaces': { anon: 401, a: 400, b: 404, admin: 400, bBody: { network_id: 1 } },
  'PAGE POST /vms/{id:int}/interfaces': { anon: 303, a: 400, b: 404, admin: 400, bBody: { network_id: '1' } },
  'API PATCH /vms/{id:int}/interfaces/{mac}': { anon: 401, a: 400, b: 404, admin: 400, bBody: { link_state: 'down' } },
  'PAGE POST /vms/{id:int}/interfaces/{mac}/update': { anon: 303, a: 400, b: 404, admin: 400, bBody: { link_state: 'down' } },
  'API DELETE /vms/{id:int}/interfaces/{mac}': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'PAGE POST /vms/{id:int}/interfaces/{mac}/delete': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
  'API GET /vms/{id:int}/port-forwards': { anon: 401, a: 200, b: 404, admin: 200 },
  'API POST /vms/{id:int}/port-forwards': { anon: 401, a: 400, b: 404, admin: 400, bBody: { host_port: 10022, guest_port: 22 } },
  'PAGE POST /vms/{id:int}/port-forwards': { anon: 303, a: 400, b: 404, admin: 400, bBody: { host_port: '10022', guest_port: '22' } },
  'API PUT /vms/{id:int}/port-forwards': { anon: 401, a: 400, b: 404, admin: 400, bBody: { forwards: [] } },
  'API DELETE /vms/{id:int}/port-forwards/{fid:int}': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'PAGE POST /vms/{id:int}/port-forwards/{fid:int}/delete': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
  'API PUT /vms/{id:int}/cdrom': { anon: 401, a: 400, b: 404, admin: 400, bBody: { iso_id: null } },
  'PAGE POST /vms/{id:int}/cdrom': { anon: 303, a: 400, b: 404, admin: 400, bBody: { eject: 'true' } },
  'API PUT /vms/{id:int}/vcpus': { anon: 401, a: 400, b: 404, admin: 400, bBody: { vcpus: 1 } },
  'PAGE POST /vms/{id:int}/vcpus': { anon: 303, a: 400, b: 404, admin: 400, bBody: { vcpus: '1' } },
  'API PUT /vms/{id:int}/cpu': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'PAGE POST /vms/{id:int}/cpu': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
  'API PUT /vms/{id:int}/memory': { anon: 401, a: 400, b: 404, admin: 400, bBody: { memory_mb: 128 } },
  'PAGE POST /vms/{id:int}/memory': { anon: 303, a: 400, b: 404, admin: 400, bBody: { memory_mb: '128' } },
  // vmm-jobs
  'API GET /jobs': { anon: 401, a: 200, b: 200, admin: 200 },
  'PAGE GET /jobs': { anon: 303, a: 200, b: 200, admin: 200 },
  // vmm-events: only EventSource (Accept: text/event-stream) gets the stream
  'PAGE GET /events': { anon: 401, a: 406, b: 406, admin: 406 },
  'API GET /jobs/{id:int}': { anon: 401, a: 200, b: 404, admin: 200 },
  'PAGE GET /jobs/{id:int}': { anon: 303, a: 200, b: 404, admin: 200 },
  'API POST /jobs/{id:int}/cancel': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'PAGE POST /jobs/{id:int}/cancel': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
  // vmm-console (A's VM is stopped: the page says so, the API gives no token;
  // B is not even told it exists; the auth_request check is internal to nginx)
  'PAGE GET /vms/{id:int}/console': { anon: 303, a: 200, b: 404, admin: 200 },
  'API GET /vms/{id:int}/console': { anon: 401, a: 409, b: 404, admin: 409 },
  'API GET /vms/{id:int}/console/spice': { anon: 401, a: 409, b: 404, admin: 409 },
  'API GET /console/ws': { anon: 404, a: 404, b: 404, admin: 404 },
  // vmm-uploads (tus: requests name the protocol version; B's are about A's upload)
  'PAGE GET /uploads': { anon: 303, a: 200, b: 200, admin: 200 },
  'API OPTIONS /uploads': { anon: 204, a: 204, b: 204, admin: 204 },
  'API POST /uploads': { anon: 401, a: 400, b: 400, admin: 400, headers: TUS },
  // Uploads are their owner's alone, admins included. A PATCH needs its
  // chunk type first (415); a DELETE without the protocol version is
  // refused (412) before it could end A's upload. B's tus requests on A's
  // upload are in uploads.test.mjs.
  'API GET /uploads/{id:int}': { anon: 401, a: 200, b: 404, admin: 404, headers: TUS },
  'API PATCH /uploads/{id:int}': { anon: 401, a: 415, b: 415, admin: 415, headers: TUS },
  'API DELETE /uploads/{id:int}': { anon: 401, a: 412, b: 412, admin: 412 },
  'PAGE POST /uploads/{id:int}/delete': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
  // vmm-isos (A's private ISO)
  'API GET /isos': { anon: 401, a: 200, b: 200, admin: 200 },
  'PAGE GET /isos': { anon: 303, a: 200, b: 200, admin: 200 },
  'API GET /isos/{id:int}': { anon: 401, a: 200, b: 404, admin: 200 },
  'PAGE GET /isos/{id:int}': { anon: 303, a: 200, b: 404, admin: 200 },
  'API PATCH /isos/{id:int}': { anon: 401, a: 400, b: 404, admin: 400, bBody: { arch: 'aarch64' } },
  'PAGE POST /isos/{id:int}': { anon: 303, a: 400, b: 404, admin: 400, bBody: { arch: 'aarch64' } },
  'API DELETE /isos/{id:int}': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'PAGE POST /isos/{id:int}/delete': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
  'API POST /isos/{id:int}/verify': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'PAGE POST /isos/{id:int}/verify': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
  // vmm-templates (A's private template; its download is a small file)
  'API GET /templates': { anon: 401, a: 200, b: 200, admin: 200 },
  'PAGE GET /templates': { anon: 303, a: 200, b: 200, admin: 200 },
  'API GET /templates/{id:int}': { anon: 401, a: 200, b: 404, admin: 200 },
  'PAGE GET /templates/{id:int}': { anon: 303, a: 200, b: 404, admin: 200 },
  'PAGE POST /templates/{id:int}': { anon: 303, a: 400, b: 404, admin: 400, bBody: { name: 'stolen' } },
  'API PATCH /templates/{id:int}': { anon: 401, a: 400, b: 404, admin: 400, bBody: { name: 'stolen' } },
  'API DELETE /templates/{id:int}': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'PAGE POST /templates/{id:int}/delete': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
  'API GET /templates/{id:int}/download': { anon: 401, a: 200, b: 404, admin: 200 },
  'PAGE GET /templates/{id:int}/download': { anon: 303, a: 200, b: 404, admin: 200 },
  // vmm-networks (administrators only; the network is a row without libvirt's)
  'API GET /networks': { anon: 401, a: 403, b: 403, admin: 200 },
  'PAGE GET /networks': { anon: 303, a: 403, b: 403, admin: 200 },
  'API POST /networks': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /networks': { anon: 303, a: 403, b: 403, admin: 400 },
  'API GET /networks/{id:int}': { anon: 401, a: 403, b: 403, admin: 200 },
  'PAGE GET /networks/{id:int}': { anon: 303, a: 403, b: 403, admin: 200 },
  'API PATCH /networks/{id:int}': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /networks/{id:int}': { anon: 303, a: 403, b: 403, admin: 400 },
  'API DELETE /networks/{id:int}': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /networks/{id:int}/delete': { anon: 303, a: 403, b: 403, admin: 400 },
  'API POST /networks/{id:int}/{action}': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /networks/{id:int}/{action}': { anon: 303, a: 403, b: 403, admin: 400 },
  // vmm-install-configs (A's own, not shared)
  'API GET /install-configs': { anon: 401, a: 200, b: 200, admin: 200 },
  'API POST /install-configs': { anon: 401, a: 400, b: 400, admin: 400 },
  'API GET /install-configs/{id:int}': { anon: 401, a: 200, b: 404, admin: 200 },
  'API DELETE /install-configs/{id:int}': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  // vmm-ip-pools (administrators only; a pool on that network, nothing allocated)
  'API GET /ip-pools': { anon: 401, a: 403, b: 403, admin: 200 },
  'PAGE GET /ip-pools': { anon: 303, a: 403, b: 403, admin: 200 },
  'API POST /ip-pools': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /ip-pools': { anon: 303, a: 403, b: 403, admin: 400 },
  'API GET /ip-pools/{id:int}': { anon: 401, a: 403, b: 403, admin: 200 },
  'PAGE GET /ip-pools/{id:int}': { anon: 303, a: 403, b: 403, admin: 200 },
  'API DELETE /ip-pools/{id:int}': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /ip-pools/{id:int}/delete': { anon: 303, a: 403, b: 403, admin: 400 },
  'API GET /ip-pools/{id:int}/conflicts': { anon: 401, a: 403, b: 403, admin: 200 },
  'API POST /ip-pools/{id:int}/allocations': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /ip-pools/{id:int}/allocations': { anon: 303, a: 403, b: 403, admin: 400 },
  'API DELETE /ip-pools/{id:int}/allocations/{ip}': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /ip-pools/{id:int}/allocations/{ip}/delete': { anon: 303, a: 403, b: 403, admin: 400 },
  // vmm-storage (administrators only; the pool is a row libvirt does not have).
  // Users reach pools only through `pool` of POST /vms and POST /vms/{id}/disks,
  // for pools opened to them (users_allowed; 403 on field pool otherwise):
  // storage.test.mjs and storage-guest.test.mjs ask it with real requests.
  'API GET /storage-pools': { anon: 401, a: 403, b: 403, admin: 200 },
  'PAGE GET /storage-pools': { anon: 303, a: 403, b: 403, admin: 200 },
  'API POST /storage-pools': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /storage-pools': { anon: 303, a: 403, b: 403, admin: 400 },
  'API GET /storage-pools/{id:int}': { anon: 401, a: 403, b: 403, admin: 200 },
  'PAGE GET /storage-pools/{id:int}': { anon: 303, a: 403, b: 403, admin: 200 },
  'API PATCH /storage-pools/{id:int}': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /storage-pools/{id:int}': { anon: 303, a: 403, b: 403, admin: 400 },
  'API DELETE /storage-pools/{id:int}': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /storage-pools/{id:int}/delete': { anon: 303, a: 403, b: 403, admin: 400 },
  'API GET /storage-pools/{id:int}/volumes': { anon: 401, a: 403, b: 403, admin: 409 },
  'API POST /storage-pools/{id:int}/volumes': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /storage-pools/{id:int}/volumes': { anon: 303, a: 403, b: 403, admin: 400 },
  'API POST /storage-pools/{id:int}/volumes/{name}/resize': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /storage-pools/{id:int}/volumes/{name}/resize': { anon: 303, a: 403, b: 403, admin: 400 },
  'API GET /storage-pools/{id:int}/volumes/{name}/download': { anon: 401, a: 403, b: 403, admin: 409 },
  'PAGE GET /storage-pools/{id:int}/volumes/{name}/download': { anon: 303, a: 403, b: 403, admin: 409 },
  'API DELETE /storage-pools/{id:int}/volumes/{name}': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /storage-pools/{id:int}/volumes/{name}/delete': { anon: 303, a: 403, b: 403, admin: 400 },
  'API POST /storage-pools/{id:int}/{action}': { anon: 401, a: 403, b: 403, admin: 400 },
  'PAGE POST /storage-pools/{id:int}/{action}': { anon: 303, a: 403, b: 403, admin: 400 },
  // vmm-audit
  'API GET /audit-logs': { anon: 401, a: 200, b: 200, admin: 200 },
  'PAGE GET /audit-logs': { anon: 303, a: 200, b: 200, admin: 200 },
  'API GET /history/logins': { anon: 401, a: 200, b: 200, admin: 200 },
  'PAGE GET /history/logins': { anon: 303, a: 200, b: 200, admin: 200 },
  'API GET /history/changes': { anon: 401, a: 200, b: 200, admin: 200 },
  'PAGE GET /history/changes': { anon: 303, a: 200, b: 200, admin: 200 },
  'API GET /history/vm-operations': { anon: 401, a: 200, b: 200, admin: 200 },
  'PAGE GET /history/vm-operations': { anon: 303, a: 200, b: 200, admin: 200 },
  // vmm-profile
  'API GET /me': { anon: 401, a: 200, b: 200, admin: 200 },
  'API PATCH /me': { anon: 401, a: 400, b: 400, admin: 400 },
  'API GET /me/quota': { anon: 401, a: 200, b: 200, admin: 200 },
  'API GET /me/tokens': { anon: 401, a: 200, b: 200, admin: 200 },
  'API POST /me/tokens': { anon: 401, a: 400, b: 400, admin: 400 },
  'API DELETE /me/tokens/{id:int}': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'API GET /me/sessions': { anon: 401, a: 200, b: 200, admin: 200 },
  'API DELETE /me/sessions/{id:int}': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'API GET /me/avatar': { anon: 401, a: 404, b: 404, admin: 404 },
  'API PUT /me/avatar': { anon: 401, a: 415, b: 415, admin: 415 },
  'API DELETE /me/avatar': { anon: 401, a: 400, b: 400, admin: 400 },
  'PAGE GET /profile': { anon: 303, a: 200, b: 200, admin: 200 },
  'PAGE POST /profile': { anon: 303, a: 400, b: 400, admin: 400 },
  'PAGE POST /profile/tokens': { anon: 303, a: 400, b: 400, admin: 400 },
  'PAGE POST /profile/tokens/{id:int}/revoke': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
  'PAGE POST /profile/sessions/{id:int}/end': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
  'PAGE POST /profile/avatar/delete': { anon: 303, a: 400, b: 400, admin: 400 },
  // vmm-metrics (/metrics: the tests ask from loopback, which may scrape)
  'API GET /vms/metrics': { anon: 401, a: 200, b: 200, admin: 200 },
  'API GET /vms/{id:int}/metrics': { anon: 401, a: 200, b: 404, admin: 200 },
  'API GET /vms/{id:int}/performance': { anon: 401, a: 200, b: 404, admin: 200 },
  'API GET /host/metrics': { anon: 401, a: 403, b: 403, admin: 200 },
  'PAGE GET /metrics': { anon: 200, a: 200, b: 200, admin: 200 },
  // vmm-alerts
  'API GET /alert-rules': { anon: 401, a: 200, b: 200, admin: 200 },
  'API POST /alert-rules': { anon: 401, a: 400, b: 400, admin: 400 },
  'API GET /alert-rules/{id:int}': { anon: 401, a: 200, b: 404, admin: 200 },
  'API PATCH /alert-rules/{id:int}': { anon: 401, a: 400, b: 404, admin: 400, bBody: { name: 'stolen' } },
  'API DELETE /alert-rules/{id:int}': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'API GET /vms/{id:int}/alerts': { anon: 401, a: 200, b: 404, admin: 200 },
  'API PUT /vms/{id:int}/alerts': { anon: 401, a: 400, b: 404, admin: 400, bBody: { alerts: [] } },
  'API GET /alerts': { anon: 401, a: 200, b: 200, admin: 200 },
  'PAGE GET /alerts': { anon: 303, a: 200, b: 200, admin: 200 },
  'API GET /alerts/{id:int}': { anon: 401, a: 200, b: 404, admin: 200 },
  'API GET /notification-channels': { anon: 401, a: 200, b: 200, admin: 200 },
  'API POST /notification-channels': { anon: 401, a: 400, b: 400, admin: 400 },
  'API GET /notification-channels/{id:int}': { anon: 401, a: 200, b: 404, admin: 200 },
  'API PATCH /notification-channels/{id:int}': { anon: 401, a: 400, b: 404, admin: 400, bBody: { name: 'stolen' } },
  'API DELETE /notification-channels/{id:int}': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'API POST /notification-channels/{id:int}/test': { anon: 401, a: 400, b: 404, admin: 400, bBody: {} },
  'API GET /notification-channels/{id:int}/deliveries': { anon: 401, a: 200, b: 404, admin: 200 },
  'PAGE GET /alert-rules': { anon: 303, a: 200, b: 200, admin: 200 },
  'PAGE GET /notification-channels': { anon: 303, a: 200, b: 200, admin: 200 },
  'PAGE POST /notification-channels/{id:int}/test': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
  'PAGE POST /alert-rules': { anon: 303, a: 400, b: 400, admin: 400 },
  'PAGE GET /alert-rules/{id:int}': { anon: 303, a: 200, b: 404, admin: 200 },
  'PAGE POST /alert-rules/{id:int}': { anon: 303, a: 400, b: 404, admin: 400, bBody: { name: 'stolen' } },
  'PAGE POST /alert-rules/{id:int}/delete': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
  'PAGE POST /notification-channels': { anon: 303, a: 400, b: 400, admin: 400 },
  'PAGE GET /notification-channels/{id:int}': { anon: 303, a: 200, b: 404, admin: 200 },
  'PAGE POST /notification-channels/{id:int}': { anon: 303, a: 400, b: 404, admin: 400, bBody: { name: 'stolen' } },
  'PAGE POST /notification-channels/{id:int}/delete': { anon: 303, a: 400, b: 404, admin: 400, bBody: {} },
};

/** One key per surface a route answers on. */
function surfaces(route) {
  const kinds = route.kind === 'both' ? ['API', 'PAGE'] : [route.kind.toUpperCase()];
  return kinds.map((surface) => ({ ...route, surface, key: `${surface} ${route.method} ${route.pattern}` }));
}

const mutating = (method) => !['GET', 'HEAD', 'OPTIONS'].includes(method);

let admin;
let a;
let b;
const ids = {};
let templateFile;
before(async () => {
  admin = await adminClient();
  a = await userClient(admin);
  b = await userClient(admin);
  const c = await createUser(admin);
  const uuid = crypto.randomUUID();
  sql(
    'INSERT INTO vms (uuid, domain_name, name, description, owner_id, state, vcpus, memory_mb, disk_gb) ' +
      `VALUES (${q(uuid)}, ${q(`vmm-m-${uuid.slice(0, 18)}`)}, ${q(uniqueName('matrix'))}, '', ${a.user.id}, 'stopped', 1, 128, 1)`,
  );
  ids.vm = Number(sql(`SELECT id FROM vms WHERE uuid = ${q(uuid)}`)[0][0]);
  // A ready backup of A's VM (a row only: nothing is restored from it here).
  sql(`INSERT INTO backups (vm_id, owner_id, vm_name, mode, status) VALUES (${ids.vm}, ${a.user.id}, 'matrix', 'full', 'ready')`);
  ids.backup = Number(sql(`SELECT MAX(id) FROM backups WHERE owner_id = ${a.user.id}`)[0][0]);
  sql(`INSERT INTO jobs (kind, state, owner_id, vm_id, message) VALUES ('vm.create', 'succeeded', ${a.user.id}, ${ids.vm}, 'matrix')`);
  ids.job = Number(sql(`SELECT MAX(id) FROM jobs WHERE owner_id = ${a.user.id}`)[0][0]);
  ids.token = (await a.client.api('POST', '/me/tokens', { name: 'matrix' })).body.data.id;
  ids.session = (await a.client.api('GET', '/me/sessions')).body.data.find((s) => s.current).id;
  ids.user = c.user.id;
  // A's private ISO, template and unfinished upload (rows only: no request
  // here may reach their files).
  const tag = uniqueName('mx');
  sql(`INSERT INTO isos (name, file_name, size_bytes, md5, sha256, visibility, owner_id)
       VALUES (${q(tag)}, ${q(`${tag}.iso`)}, 1, '', '', 'private', ${a.user.id})`);
  ids.iso = Number(sql(`SELECT id FROM isos WHERE file_name = ${q(`${tag}.iso`)}`)[0][0]);
  sql(`INSERT INTO templates (name, file_name, virtual_size_bytes, description, visibility, owner_id)
       VALUES (${q(tag)}, ${q(`${tag}.qcow2`)}, 1, '', 'private', ${a.user.id})`);
  ids.template = Number(sql(`SELECT id FROM templates WHERE file_name = ${q(`${tag}.qcow2`)}`)[0][0]);
  templateFile = `${STATE}/pool/templates/${tag}.qcow2`;
  writeFileSync(templateFile, 'matrix template bytes\n', { mode: 0o644 });
  sql(`INSERT INTO uploads (owner_id, kind, filename, name, metadata, length_bytes, expires_at)
       VALUES (${a.user.id}, 'iso', ${q(tag)}, ${q(tag)}, '', 10, UTC_TIMESTAMP() + INTERVAL 1 DAY)`);
  ids.upload = Number(sql(`SELECT MAX(id) FROM uploads WHERE owner_id = ${a.user.id}`)[0][0]);
  sql(`INSERT INTO networks (name, mode, cidr) VALUES (${q(tag.replace(/_/g, '-'))}, 'isolated', '')`);
  ids.network = Number(sql(`SELECT id FROM networks WHERE name = ${q(tag.replace(/_/g, '-'))}`)[0][0]);
  sql(`INSERT INTO ip_pools (name, network_id, cidr, range_start, range_end, range_start_num, range_end_num)
       VALUES (${q(tag)}, ${ids.network}, '192.168.250.0/24', '192.168.250.10', '192.168.250.20', 3232299530, 3232299540)`);
  ids.ipPool = Number(sql(`SELECT id FROM ip_pools WHERE name = ${q(tag)}`)[0][0]);
  sql(`INSERT INTO storage_pools (name, type, path) VALUES (${q(tag.replace(/_/g, '-'))}, 'dir', ${q(`/srv/vmm-storage/${tag}`)})`);
  ids.storagePool = Number(sql(`SELECT id FROM storage_pools WHERE path = ${q(`/srv/vmm-storage/${tag}`)}`)[0][0]);
  // A's notification channel, alert rule on their VM, and an alert of it.
  sql(`INSERT INTO notification_channels (owner_id, name, type, config)
       VALUES (${a.user.id}, ${q(tag)}, 'webhook', '{"url":"http://127.0.0.1:9/"}')`);
  ids.channel = Number(sql(`SELECT MAX(id) FROM notification_channels WHERE owner_id = ${a.user.id}`)[0][0]);
  sql(`INSERT INTO alert_rules (owner_id, metric, scope, vm_id, operator, threshold, enabled)
       VALUES (${a.user.id}, 'cpu', 'vm', ${ids.vm}, '>', 99, 0)`);
  ids.rule = Number(sql(`SELECT MAX(id) FROM alert_rules WHERE owner_id = ${a.user.id}`)[0][0]);
  sql(`INSERT INTO alerts (rule_id, owner_id, vm_id, object_key, state, metric, value, threshold, resolved_at)
       VALUES (${ids.rule}, ${a.user.id}, ${ids.vm}, 'vm:${ids.vm}', 'resolved', 'cpu', 100, 99, UTC_TIMESTAMP())`);
  ids.alert = Number(sql(`SELECT MAX(id) FROM alerts WHERE owner_id = ${a.user.id}`)[0][0]);
  sql(`INSERT INTO install_configs (owner_id, name, shared, body)
       VALUES (${a.user.id}, ${q(tag)}, 0, '{"type":"cloud-init","hostname":"matrix"}')`);
  ids.installConfig = Number(sql(`SELECT MAX(id) FROM install_configs WHERE owner_id = ${a.user.id}`)[0][0]);
  sql(`INSERT INTO ova_imports (owner_id, name, vcpus, memory_mb, disk_file, disk_format, source_format, virtual_size_bytes, nics)
       VALUES (${a.user.id}, ${q(tag)}, 1, 128, ${q(`${tag}.qcow2`)}, 'qcow2', 'vmdk', 1048576, '[]')`);
  ids.ovaImport = Number(sql(`SELECT MAX(id) FROM ova_imports WHERE owner_id = ${a.user.id}`)[0][0]);
});
after(async () => {
  if (templateFile) rmSync(templateFile, { force: true });
  if (ids.ipPool) sql(`DELETE FROM ip_pools WHERE id = ${ids.ipPool}`);
  if (ids.storagePool) sql(`DELETE FROM storage_pools WHERE id = ${ids.storagePool}`);
  if (ids.network) sql(`DELETE FROM networks WHERE id = ${ids.network}`);
  for (const c of [a?.client, b?.client, admin]) await c?.logout();
});

/** The concrete path of a route pattern, naming user A's objects. */
function concretePath(pattern) {
  const object = pattern.startsWith('/vms/imports/') ? ids.ovaImport
    : pattern.startsWith('/vms/') ? ids.vm
    : pattern.startsWith('/jobs/') ? ids.job
      : pattern.startsWith('/users/') ? ids.user
        : pattern.startsWith('/isos/') ? ids.iso
          : pattern.startsWith('/templates/') ? ids.template
            : pattern.startsWith('/uploads/') ? ids.upload
              : pattern.startsWith('/networks/') ? ids.network
                : pattern.startsWith('/ip-pools/') ? ids.ipPool
                  : pattern.startsWith('/storage-pools/') ? ids.storagePool
                    : pattern.startsWith('/hosts/') ? 1
                    : pattern.startsWith('/backups/') ? ids.backup
              : pattern.startsWith('/alert-rules/') ? ids.rule
                : pattern.startsWith('/alerts/') ? ids.alert
                  : pattern.startsWith('/notification-channels/') ? ids.channel
                    : pattern.startsWith('/install-configs/') ? ids.installConfig
              : /\/tokens\//.test(pattern) ? ids.token
                : /\/sessions\//.test(pattern) ? ids.session
                  : null;
  return pattern.replace(/\{([a-z_]+)(:int)?\}/g, (whole, name, isInt) => {
    if (isInt) {
      assert.ok(object, `no fixture object for ${pattern}: extend concretePath`);
      return String(object);
    }
    if (name === 'action') return 'start';
    if (name === 'target') return 'vdb';
    if (name === 'mac') return '52:54:00:00:00:01';
    if (name === 'ip') return '192.168.250.10';
    if (name === 'name') return 'vol';
    assert.fail(`no value for {${name}} in ${pattern}: extend concretePath`);
    return '';
  });
}

/** The one request of a principal on a route surface. */
function ask(client, route, row, who) {
  const path = concretePath(route.pattern);
  const url = route.surface === 'API' ? `/api/v1${path}` : path;
  const headers = row.headers ?? {};
  if (!mutating(route.method)) return client.request(route.method, url, { headers });
  const valid = who === 'b' && row.bBody;
  if (route.surface === 'API') {
    return client.request(route.method, url, { headers, json: valid ? row.bBody : { matrix_probe: 1 } });
  }
  const form = { csrf_token: client.csrf ?? '', ...(valid ? row.bBody : { matrix_probe: '1' }) };
  return client.request(route.method, url, { headers, form, csrf: false });
}

test('every route has a row in the authorization table, and no row is stale', () => {
  const keys = programRoutes().flatMap(surfaces).map((r) => r.key);
  const missing = keys.filter((k) => !(k in EXPECTED));
  assert.deepEqual(missing, [], `routes without a row in EXPECTED (tests/integration/authz-matrix.test.mjs): ${missing.join(', ')}`);
  const stale = Object.keys(EXPECTED).filter((k) => !keys.includes(k));
  assert.deepEqual(stale, [], `rows for routes no program has: ${stale.join(', ')}`);
});

test('every route x {anonymous, A, B, admin} answers as the table says; mutations leave one audit row', async () => {
  const principals = { anon: new Client('anon'), a: a.client, b: b.client, admin };
  const wrong = [];
  const audit = [];
  for (const route of programRoutes().flatMap(surfaces)) {
    const row = EXPECTED[route.key];
    if (!row) continue; // reported by the test above
    for (const [who, client] of Object.entries(principals)) {
      const res = await ask(client, route, row, who);
      if (res.status !== row[who]) wrong.push(`${route.key} as ${who}: ${res.status}, expected ${row[who]} (${res.text.slice(0, 120).replace(/\s+/g, ' ')})`);
      if (mutating(route.method)) {
        const n = Number(sql(`SELECT COUNT(*) FROM audit_log WHERE request_id = ${q(res.requestId ?? '')}`)[0][0]);
        if (n !== 1) audit.push(`${route.key} as ${who}: ${n} audit rows`);
      }
    }
  }
  assert.deepEqual(wrong, [], `unexpected statuses:\n${wrong.join('\n')}`);
  assert.deepEqual(audit, [], `mutating requests without exactly one audit row:\n${audit.join('\n')}`);
  // Nothing was changed by any of it: A's objects are as they were.
  assert.equal(sql(`SELECT owner_id, state FROM vms WHERE id = ${ids.vm}`)[0].join(' '), `${a.user.id} stopped`);
  assert.equal(sql(`SELECT state FROM jobs WHERE id = ${ids.job}`)[0][0], 'succeeded');
  assert.equal(sql(`SELECT COUNT(*) FROM api_tokens WHERE id = ${ids.token}`)[0][0], '1');
  assert.equal(sql(`SELECT COUNT(*) FROM sessions WHERE id = ${ids.session}`)[0][0], '1');
  assert.equal(sql(`SELECT role FROM users WHERE id = ${a.user.id}`)[0][0], 'user');
});
