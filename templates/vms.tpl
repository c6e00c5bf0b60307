{{%AUTOESCAPE context="HTML"}}<h1>{{_ Virtual machines}}</h1>
<div class="toolbar">
  <form method="get" action="/vms" class="toolbar">
    <input name="q" placeholder="{{_ Search}}" maxlength="100">
    <select name="state">
      <option value="">{{_ Any state}}</option>
      <option value="running">{{_ Running}}</option>
      <option value="stopped">{{_ Stopped}}</option>
      <option value="paused">{{_ Paused}}</option>
      <option value="suspended">{{_ Suspended}}</option>
    </select>
    <button type="submit">{{_ Search}}</button>
  </form>
  <a class="button primary" href="/vms/new" id="new-vm">{{_ New virtual machine}}</a>
</div>
<div id="vms-live" data-live>
<table class="table" id="vms">
  <thead><tr>
    <th>{{_ Name}}</th><th>{{_ State}}</th><th>{{_ vCPUs}}</th><th>{{_ Memory (MiB)}}</th>
    <th>{{_ Disk (GiB)}}</th><th>{{_ Created}}</th>
  </tr></thead>
  <tbody>
  {{#items}}
    <tr>
      <td><a href="/vms/{{id}}">{{name}}</a></td>
      <td><span class="state state-{{state}}">{{#state_is_creating}}{{_ Creating}}{{/state_is_creating}}{{#state_is_stopped}}{{_ Stopped}}{{/state_is_stopped}}{{#state_is_running}}{{_ Running}}{{/state_is_running}}{{#state_is_paused}}{{_ Paused}}{{/state_is_paused}}{{#state_is_suspended}}{{_ Suspended}}{{/state_is_suspended}}{{#state_is_installing}}{{_ Installing}}{{/state_is_installing}}{{#state_is_error}}{{_ Error}}{{/state_is_error}}{{#state_is_starting}}{{_ Starting}}{{/state_is_starting}}{{#state_is_stopping}}{{_ Stopping}}{{/state_is_stopping}}{{#state_is_rebooting}}{{_ Rebooting}}{{/state_is_rebooting}}{{#state_is_pausing}}{{_ Pausing}}{{/state_is_pausing}}{{#state_is_resuming}}{{_ Resuming}}{{/state_is_resuming}}{{#state_is_suspending}}{{_ Suspending}}{{/state_is_suspending}}{{#state_is_deleting}}{{_ Deleting}}{{/state_is_deleting}}</span>{{#state_is_creating}} <progress max="100" value="{{progress}}" aria-label="{{_ Progress}}">{{progress}}%</progress>{{/state_is_creating}}</td>
      <td>{{vcpus}}</td><td>{{memory_mb}}</td><td>{{disk_gb}}</td><td>{{created_at}}</td>
    </tr>
  {{/items}}
  {{#items_empty}}<tr><td colspan="6">{{_ No virtual machines yet.}}</td></tr>{{/items_empty}}
  </tbody>
</table>
{{#meta}}<p class="muted">{{_ Total}}: {{total}}</p>{{/meta}}
</div>
