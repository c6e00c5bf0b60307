{{%AUTOESCAPE context="HTML"}}<h1>{{_ Virtual machines}}</h1>
<div class="toolbar">
  <form method="get" action="/vms" class="toolbar" id="vm-filters" role="search">
    <label class="sr-only" for="vm-q">{{_ Search}}</label>
    <input id="vm-q" name="q" type="search" placeholder="{{_ Search}}" maxlength="100" value="{{q}}">
    <label class="sr-only" for="vm-state">{{_ State}}</label>
    <select name="state" id="vm-state">
      <option value="">{{_ Any state}}</option>
      {{#states}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/states}}
    </select>
    <button type="submit">{{_ Search}}</button>
    {{#filtered}}<a href="/vms" id="clear-filters">{{_ Clear}}</a>{{/filtered}}
  </form>
  <a class="button primary" href="/vms/new" id="new-vm">{{_ New virtual machine}}</a>
</div>
<form method="post" action="/vms/batch" id="vm-batch">
<input type="hidden" name="csrf_token" value="{{csrf_token}}">
<div class="toolbar batch" role="group" aria-label="{{_ With the chosen machines}}">
  <label for="batch-action">{{_ With the chosen machines}}</label>
  <select name="action" id="batch-action">
    <option value="start">{{_ Start}}</option>
    <option value="stop">{{_ Shut down}}</option>
    <option value="reboot">{{_ Reboot}}</option>
    <option value="suspend">{{_ Suspend to disk}}</option>
    <option value="pause">{{_ Pause}}</option>
    <option value="resume">{{_ Resume}}</option>
    <option value="delete">{{_ Delete…}}</option>
  </select>
  <label><input type="checkbox" name="force" value="true" id="batch-force"> {{_ Force (shut down: power off at once)}}</label>
  <button type="submit" id="batch-run">{{_ Apply}}</button>
</div>
<div id="vms-live" data-live>
<table class="table reflow" id="vms">
  <thead><tr>
    <th><span class="sr-only">{{_ Choose}}</span></th>
    <th{{#sorts}}{{#name}}{{#current}} aria-sort="{{#ascending}}ascending{{/ascending}}{{#descending}}descending{{/descending}}"{{/current}}{{/name}}{{/sorts}}><a href="{{#sorts}}{{#name}}{{href}}{{/name}}{{/sorts}}">{{_ Name}}</a></th> <th{{#sorts}}{{#state}}{{#current}} aria-sort="{{#ascending}}ascending{{/ascending}}{{#descending}}descending{{/descending}}"{{/current}}{{/state}}{{/sorts}}><a href="{{#sorts}}{{#state}}{{href}}{{/state}}{{/sorts}}">{{_ State}}</a></th> <th>{{_ Host}}</th> <th{{#sorts}}{{#vcpus}}{{#current}} aria-sort="{{#ascending}}ascending{{/ascending}}{{#descending}}descending{{/descending}}"{{/current}}{{/vcpus}}{{/sorts}}><a href="{{#sorts}}{{#vcpus}}{{href}}{{/vcpus}}{{/sorts}}">{{_ vCPUs}}</a></th> <th{{#sorts}}{{#memory_mb}}{{#current}} aria-sort="{{#ascending}}ascending{{/ascending}}{{#descending}}descending{{/descending}}"{{/current}}{{/memory_mb}}{{/sorts}}><a href="{{#sorts}}{{#memory_mb}}{{href}}{{/memory_mb}}{{/sorts}}">{{_ Memory (MiB)}}</a></th> <th{{#sorts}}{{#disk_gb}}{{#current}} aria-sort="{{#ascending}}ascending{{/ascending}}{{#descending}}descending{{/descending}}"{{/current}}{{/disk_gb}}{{/sorts}}><a href="{{#sorts}}{{#disk_gb}}{{href}}{{/disk_gb}}{{/sorts}}">{{_ Disk (GiB)}}</a></th> <th{{#sorts}}{{#created_at}}{{#current}} aria-sort="{{#ascending}}ascending{{/ascending}}{{#descending}}descending{{/descending}}"{{/current}}{{/created_at}}{{/sorts}}><a href="{{#sorts}}{{#created_at}}{{href}}{{/created_at}}{{/sorts}}">{{_ Created}}</a></th>
  </tr></thead>
  <tbody>
  {{#vms}}
    <tr data-id="{{id}}" data-state="{{state}}">
      <td><input type="checkbox" name="ids" value="{{id}}" id="pick-{{id}}" aria-label="{{_ Choose}} {{name}}"></td>
      <td data-label="{{_ Name}}"><a href="/vms/{{id}}">{{name}}</a></td>
      <td data-label="{{_ State}}"><span class="state state-{{state}}">{{#state_is_creating}}{{_ Creating}}{{/state_is_creating}}{{#state_is_stopped}}{{_ Stopped}}{{/state_is_stopped}}{{#state_is_running}}{{_ Running}}{{/state_is_running}}{{#state_is_paused}}{{_ Paused}}{{/state_is_paused}}{{#state_is_suspended}}{{_ Suspended}}{{/state_is_suspended}}{{#state_is_installing}}{{_ Installing}}{{/state_is_installing}}{{#state_is_error}}{{_ Error}}{{/state_is_error}}{{#state_is_starting}}{{_ Starting}}{{/state_is_starting}}{{#state_is_stopping}}{{_ Stopping}}{{/state_is_stopping}}{{#state_is_rebooting}}{{_ Rebooting}}{{/state_is_rebooting}}{{#state_is_pausing}}{{_ Pausing}}{{/state_is_pausing}}{{#state_is_resuming}}{{_ Resuming}}{{/state_is_resuming}}{{#state_is_suspending}}{{_ Suspending}}{{/state_is_suspending}}{{#state_is_deleting}}{{_ Deleting}}{{/state_is_deleting}}{{#state_is_unknown}}{{_ Unknown}}{{/state_is_unknown}}</span>{{#state_is_creating}} <progress max="100" value="{{progress}}" aria-label="{{_ Progress}}">{{progress}}%</progress>{{/state_is_creating}}</td>
      <td data-label="{{_ Host}}" class="vm-host">{{host_name}}</td>
      <td data-label="{{_ vCPUs}}">{{vcpus}}</td><td data-label="{{_ Memory (MiB)}}">{{memory_mb}}</td><td data-label="{{_ Disk (GiB)}}">{{disk_gb}}</td><td data-label="{{_ Created}}"><time datetime="{{created_at}}">{{created_at}}</time></td>
    </tr>
  {{/vms}}
  {{#vms_empty}}<tr><td colspan="8" id="vms-empty">{{#filtered}}{{_ No virtual machine matches this search.}} <a href="/vms">{{_ Show all}}</a>{{/filtered}}{{#not_filtered}}{{_ No virtual machines yet.}} <a class="button primary" href="/vms/new">{{_ Create one}}</a>{{/not_filtered}}</td></tr>{{/vms_empty}}
  </tbody>
</table>
{{#meta}}<p class="muted">{{_ Total}}: <span id="vms-total">{{total}}</span></p>{{/meta}}
</div>
</form>
{{#paging}}<nav class="pager" aria-label="{{_ Pages}}">{{#has_prev}}<a href="{{prev}}" rel="prev">{{_ Previous}}</a>{{/has_prev}} <span>{{page}} / {{pages}}</span> {{#has_next}}<a href="{{next}}" rel="next">{{_ Next}}</a>{{/has_next}}</nav>{{/paging}}
