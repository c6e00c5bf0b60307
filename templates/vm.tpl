{{%AUTOESCAPE context="HTML"}}{{#vm}}
<h1>{{name}}</h1>
<p><a href="/vms">{{_ All virtual machines}}</a></p>
<section class="card" id="vm">
  <dl class="facts">
    <dt>{{_ State}}</dt><dd id="state" data-state="{{state}}"><span class="state state-{{state}}">{{#state_is_creating}}{{_ Creating}}{{/state_is_creating}}{{#state_is_stopped}}{{_ Stopped}}{{/state_is_stopped}}{{#state_is_running}}{{_ Running}}{{/state_is_running}}{{#state_is_paused}}{{_ Paused}}{{/state_is_paused}}{{#state_is_suspended}}{{_ Suspended}}{{/state_is_suspended}}{{#state_is_installing}}{{_ Installing}}{{/state_is_installing}}{{#state_is_error}}{{_ Error}}{{/state_is_error}}</span></dd>
    <dt>{{_ vCPUs}}</dt><dd>{{vcpus}}</dd>
    <dt>{{_ Memory (MiB)}}</dt><dd>{{memory_mb}}</dd>
    <dt>{{_ Disk (GiB)}}</dt><dd>{{disk_gb}}</dd>
    <dt>{{_ Architecture}}</dt><dd>{{arch}}</dd>
    <dt>{{_ Network}}</dt><dd>{{network}}</dd>
    <dt>{{_ Description}}</dt><dd>{{description}}</dd>
    <dt>UUID</dt><dd>{{uuid}}</dd>
    <dt>{{_ Created}}</dt><dd>{{created_at}}</dd>
  </dl>
</section>
<section class="card actions" id="actions">
  {{! Only what the state allows; the helper refuses the rest with a 409. }}
  <a class="button" id="open-snapshots" href="/vms/{{id}}/snapshots">{{_ Snapshots}}</a>{{! issue 16 }}
  {{#state_is_stopped}}
  <form method="post" action="/vms/{{id}}/start" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button id="start" class="primary">{{_ Start}}</button>
  </form>
  {{/state_is_stopped}}
  {{#state_is_running}}
  <a class="button" id="open-console" href="/vms/{{id}}/console">{{_ Console}}</a>
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
{{>vm_hardware.tpl}}
<section class="card narrow">
  <h2>{{_ Delete}}</h2>
  <form method="post" action="/vms/{{id}}/delete" class="form" id="delete-vm">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label><input type="checkbox" name="delete_disks" value="true" checked> {{_ Delete its disk too}}</label>
    <button type="submit" class="danger">{{_ Delete this virtual machine}}</button>
  </form>
</section>
{{/vm}}
{{>METRICS_CHARTS}}
