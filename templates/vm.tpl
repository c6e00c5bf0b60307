{{%AUTOESCAPE context="HTML"}}{{#vm}}
<h1>{{name}}</h1>
<p><a href="/vms">{{_ All virtual machines}}</a></p>
<section class="card" id="vm" data-live>
  <dl class="facts">
    <dt>{{_ State}}</dt><dd id="state" data-state="{{state}}"><span class="state state-{{state}}">{{#state_is_creating}}{{_ Creating}}{{/state_is_creating}}{{#state_is_stopped}}{{_ Stopped}}{{/state_is_stopped}}{{#state_is_running}}{{_ Running}}{{/state_is_running}}{{#state_is_paused}}{{_ Paused}}{{/state_is_paused}}{{#state_is_suspended}}{{_ Suspended}}{{/state_is_suspended}}{{#state_is_installing}}{{_ Installing}}{{/state_is_installing}}{{#state_is_error}}{{_ Error}}{{/state_is_error}}{{#state_is_starting}}{{_ Starting}}{{/state_is_starting}}{{#state_is_stopping}}{{_ Stopping}}{{/state_is_stopping}}{{#state_is_rebooting}}{{_ Rebooting}}{{/state_is_rebooting}}{{#state_is_pausing}}{{_ Pausing}}{{/state_is_pausing}}{{#state_is_resuming}}{{_ Resuming}}{{/state_is_resuming}}{{#state_is_suspending}}{{_ Suspending}}{{/state_is_suspending}}{{#state_is_deleting}}{{_ Deleting}}{{/state_is_deleting}}{{#state_is_unknown}}{{_ Unknown}}{{/state_is_unknown}}</span>{{#state_is_creating}} <progress max="100" value="{{progress}}" aria-label="{{_ Progress}}">{{progress}}%</progress>{{/state_is_creating}}{{#stop_reason}} <span class="stop-reason" id="stop-reason" data-code="{{code}}">{{message}}</span>{{/stop_reason}}</dd>
    {{#state_error}}<dt>{{_ Why}}</dt><dd id="error-reason" data-reason="{{reason}}"><p class="error-message">{{message}}</p><details id="error-detail"><summary>{{_ What libvirt and QEMU said}}</summary><pre>{{detail}}</pre></details></dd>{{/state_error}}
    <dt>{{_ vCPUs}}</dt><dd>{{vcpus}}</dd>
    <dt>{{_ Memory (MiB)}}</dt><dd>{{memory_mb}}</dd>
    <dt>{{_ Disk (GiB)}}</dt><dd>{{disk_gb}}</dd>
    <dt>{{_ Host}}</dt><dd id="host" data-host-id="{{host_id}}">{{host_name}}</dd>
    <dt>{{_ Architecture}}</dt><dd>{{arch}}</dd>
    <dt>{{_ Network}}</dt><dd id="nics">{{#nics}}<span class="nic">{{network}} ({{mac}}{{#ip}}, {{_ allocated}} {{ip}}{{/ip}})</span> {{/nics}}{{#nics_empty}}{{network}}{{/nics_empty}}</dd>
    <dt>{{_ IP addresses}}</dt><dd id="ip-addresses">{{#ip_addresses}}{{value}} {{/ip_addresses}}</dd>
    <dt>{{_ Description}}</dt><dd>{{description}}</dd>
    <dt>UUID</dt><dd>{{uuid}}</dd>
    <dt>{{_ Created}}</dt><dd><time datetime="{{created_at}}">{{created_at}}</time></dd>
  </dl>
</section>
{{#state_is_creating}}<meta http-equiv="refresh" content="2">
<p class="notice" id="creating">{{_ The machine is being made; this page shows it once it is ready.}}</p>{{/state_is_creating}}
<section class="card actions" id="actions" data-live>
  {{! Only what the state allows; the helper refuses the rest with a 409. }}
  {{#in_transition}}<p class="muted" id="under-way">{{_ An action is under way; the buttons come back when it ends.}} <a href="/jobs?vm_id={{id}}">{{_ Tasks}}</a></p>{{/in_transition}}
  {{#state_is_creating}}<p class="muted" id="under-way">{{_ Being created.}} <a href="/jobs?vm_id={{id}}">{{_ Tasks}}</a></p>{{/state_is_creating}}
  <a class="button" id="open-snapshots" href="/vms/{{id}}/snapshots">{{_ Snapshots}}</a>{{! issue 16 }}
  <a class="button" id="open-backups" href="/vms/{{id}}/backups">{{_ Backups}}</a>
  {{#state_is_stopped}}
  <form method="post" action="/vms/{{id}}/start" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button id="start" class="primary">{{_ Start}}</button>
  </form>
  {{/state_is_stopped}}
  {{#state_is_running}}
  {{#graphics_is_vnc}}<a class="button" id="open-console" href="/vms/{{id}}/console">{{_ Console}}</a>{{/graphics_is_vnc}}
  <form method="post" action="/vms/{{id}}/stop" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button id="stop">{{_ Shut down}}</button>
  </form>
  <form method="post" action="/vms/{{id}}/stop" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <input type="hidden" name="force" value="true">
    <button id="force-stop">{{_ Force off}}</button>
  </form>
  <form method="post" action="/vms/{{id}}/reboot" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button id="reboot">{{_ Reboot}}</button>
  </form>
  <form method="post" action="/vms/{{id}}/pause" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button id="pause">{{_ Pause}}</button>
  </form>
  <form method="post" action="/vms/{{id}}/suspend" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button id="suspend">{{_ Suspend to disk}}</button>
  </form>
  {{/state_is_running}}
  {{#state_is_installing}}
  <form method="post" action="/vms/{{id}}/stop" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button id="stop">{{_ Shut down}}</button>
  </form>
  <form method="post" action="/vms/{{id}}/stop" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <input type="hidden" name="force" value="true">
    <button id="force-stop">{{_ Force off}}</button>
  </form>
  {{/state_is_installing}}
  {{#state_is_paused}}
  <form method="post" action="/vms/{{id}}/resume" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button id="resume" class="primary">{{_ Resume}}</button>
  </form>
  <form method="post" action="/vms/{{id}}/stop" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <input type="hidden" name="force" value="true">
    <button id="force-stop">{{_ Force off}}</button>
  </form>
  {{/state_is_paused}}
  {{#state_is_suspended}}
  <form method="post" action="/vms/{{id}}/wakeup" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button id="wakeup" class="primary">{{_ Wake up}}</button>
  </form>
  {{/state_is_suspended}}
</section>
{{! issue 20: VNC (the browser console) or SPICE (remote-viewer with a
   .vv file whose password works once); chosen while the machine is
   stopped, through the same change as PATCH /api/v1/vms/ID. }}
<section class="card narrow" id="vm-graphics" data-live>
  <h2>{{_ Graphics}}</h2>
  <p id="graphics-now" data-graphics="{{graphics}}">{{#graphics_is_vnc}}{{_ VNC: the console opens in the browser.}}{{/graphics_is_vnc}}{{#graphics_is_spice}}{{_ SPICE: the console opens in remote-viewer (virt-viewer) from a .vv file with a one-time password.}}{{/graphics_is_spice}}</p>
  {{#graphics_is_spice}}
  {{#console_on}}<p><a class="button primary" id="download-vv" href="/api/v1/vms/{{id}}/console/spice" download>{{_ Download .vv (remote-viewer)}}</a> <span class="muted">{{_ Each file opens the console once, within a minute of its download.}}</span></p>{{/console_on}}
  {{#state_is_stopped}}<p class="muted" id="vv-hint">{{_ Start the machine to download its .vv file.}}</p>{{/state_is_stopped}}
  {{/graphics_is_spice}}
  {{#state_is_stopped}}
  <form method="post" action="/vms/{{id}}/graphics" class="form inline" id="graphics-form">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="graphics">{{_ Graphics}}</label>
    <select id="graphics" name="graphics">
      <option value="vnc"{{#graphics_is_vnc}} selected{{/graphics_is_vnc}}>{{_ VNC (browser console)}}</option>
      <option value="spice"{{#graphics_is_spice}} selected{{/graphics_is_spice}}>{{_ SPICE (remote-viewer)}}</option>
    </select>
    <button type="submit" id="graphics-save">{{_ Save}}</button>
  </form>
  {{/state_is_stopped}}
  {{#console_on}}<p class="muted" id="graphics-stopped-only">{{_ Stop the machine to change its graphics.}}</p>{{/console_on}}
</section>
{{>vm_hardware.tpl}}
{{! Sections to come (snapshots, backups, metrics charts) go here, one
   include or section each, between the facts and the danger zone. }}
<section class="card" id="vm-jobs" data-live>
  <h2>{{_ Recent tasks}}</h2>
  <ul class="plain">
    {{#recent_jobs}}<li class="job-{{state}}"><a href="/jobs/{{id}}">{{kind_label}}</a> <span class="state state-{{state}}">{{#state_is_queued}}{{_ Queued}}{{/state_is_queued}}{{#state_is_running}}{{_ Running}} {{progress}}%{{/state_is_running}}{{#state_is_succeeded}}{{_ Done}}{{/state_is_succeeded}}{{#state_is_failed}}{{_ Failed}}{{/state_is_failed}}{{#state_is_cancelled}}{{_ Cancelled}}{{/state_is_cancelled}}</span> {{message}} <time datetime="{{created_at}}">{{created_at}}</time></li>{{/recent_jobs}}
  </ul>
  {{#recent_jobs_empty}}<p class="muted">{{_ No tasks yet.}}</p>{{/recent_jobs_empty}}
</section>
<section class="card" id="vm-history" data-live>
  <h2>{{_ History}}</h2>
  <table class="table reflow" id="vm-history-rows">
    <thead><tr><th>{{_ Time (UTC)}}</th><th>{{_ User}}</th><th>{{_ What happened}}</th><th>{{_ Result}}</th><th>{{_ Details}}</th></tr></thead>
    <tbody>
    {{#history}}
      <tr class="{{#success}}audit-ok{{/success}}{{#not_success}}audit-failed{{/not_success}}">
        <td data-label="{{_ Time (UTC)}}"><time datetime="{{time}}">{{time}}</time></td>
        <td data-label="{{_ User}}">{{actor_name}}</td>
        <td data-label="{{_ What happened}}" class="audit-summary" data-action="{{action}}">{{summary}}</td>
        <td data-label="{{_ Result}}">{{#success}}{{_ Success}}{{/success}}{{#not_success}}<span class="state state-failed">{{_ Failure}}</span>{{/not_success}}</td>
        <td data-label="{{_ Details}}">{{>audit_details.tpl}}</td>
      </tr>
    {{/history}}
    {{#history_empty}}<tr><td colspan="5">{{_ Nothing has been done to it yet.}}</td></tr>{{/history_empty}}
    </tbody>
  </table>
  <p><a href="/history/vm-operations?target_id={{id}}" id="vm-history-all">{{_ All of its history}}</a></p>
</section>
{{#may_migrate}}
<section class="card narrow" id="vm-migrate">
  <h2>{{_ Migrate}}</h2>
  {{#migrate_hosts_empty}}<p class="muted">{{_ There is no other host; add one on the hosts page.}} <a href="/hosts">{{_ Hosts}}</a></p>{{/migrate_hosts_empty}}
  <form method="post" action="/vms/{{id}}/migrate/check" class="form" id="migrate-form">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="migrate-host">{{_ Destination}}</label>
    <select id="migrate-host" name="host_id" required>
      {{#migrate_hosts}}<option value="{{id}}">{{name}}{{#state_is_down}} ({{_ Down}}){{/state_is_down}}</option>{{/migrate_hosts}}
    </select>
    <label for="migrate-mode">{{_ Mode}}</label>
    <select id="migrate-mode" name="mode">
      <option value="live">{{_ Live (shared storage)}}</option>
      <option value="live_storage">{{_ Live with storage copy}}</option>
      <option value="offline">{{_ Offline}}</option>
    </select>
    <button type="submit" id="migrate-check-button">{{_ Check}}</button>
  </form>
</section>
{{/may_migrate}}
<!-- vm-sections: begin -->
<!-- vm-sections: end -->
<section class="card narrow danger-zone">
  <h2>{{_ Delete}}</h2>
  <form method="post" action="/vms/{{id}}/delete" class="form" id="delete-vm" data-confirm-name="{{name}}">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <p>{{_ The machine is removed from the host. With its disk, everything stored on it is lost for good.}}</p>
    <label><input type="checkbox" name="delete_disks" value="true" checked id="delete-disks"> {{_ Delete its disk too}} ({{disk_gb}} GiB)</label>
    <label for="confirm-name">{{_ To delete it with its disk, type its name}}: <strong>{{name}}</strong></label>
    <input id="confirm-name" name="confirm_name" autocomplete="off" maxlength="64">
    <button type="submit" class="danger" id="delete-vm-button">{{_ Delete this virtual machine}}</button>
  </form>
</section>
{{/vm}}
{{>METRICS_CHARTS}}
