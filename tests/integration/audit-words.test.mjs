// Issue 15: every audit action has its words. The one table of phrases is
// lib/web/audit_text.c; the actions are the routes' own (as the programs list
// them), those handlers set themselves (r->audit_action = "..."), and the
// helper's (an alert's action on a VM). A new action without a phrase
// fails here, naming it; the log would otherwise show its bare code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { ROOT, programRoutes } from './lib.mjs';

const table = readFileSync(`${ROOT}lib/web/audit_text.c`, 'utf8');
const phrased = new Set([...table.matchAll(/\{ "([a-z_]+\.[a-z_]+)", N_\(/g)].map((m) => m[1]));

function handlerActions() {
  const found = new Set();
  for (const name of readdirSync(`${ROOT}cgi-bin`).filter((n) => n.endsWith('.c'))) {
    const source = readFileSync(`${ROOT}cgi-bin/${name}`, 'utf8');
    for (const statement of source.matchAll(/audit_action\s*=([^;]+);/g))
      for (const literal of statement[1].matchAll(/"([a-z_]+\.[a-z_]+)"/g)) found.add(literal[1]);
  }
  return found;
}

test('every action the portal audits has a phrase in lib/web/audit_text.c', () => {
  const actions = new Set(programRoutes().map((r) => r.action).filter(Boolean));
  for (const a of handlerActions()) actions.add(a);
  // POST /vms/{id}/{action} (vmm-vms.c: "vm.%s" of its actions) and the helper's alert actions.
  for (const a of ['start', 'stop', 'reboot', 'pause', 'resume', 'suspend', 'wakeup']) actions.add(`vm.${a}`);
  assert.ok(actions.size > 80, `only ${actions.size} actions found`);
  const missing = [...actions].filter((a) => !phrased.has(a)).sort();
  assert.deepEqual(missing, [], `actions without words: ${missing.join(', ')}`);
});
