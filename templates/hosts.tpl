{{%AUTOESCAPE context="HTML"}}<h1>{{_ Hosts}}</h1>
<table class="table" id="hosts" data-live="hosts">
  <thead><tr>
    <th>{{_ Name}}</th><th>{{_ URI}}</th><th>{{_ State}}</th><th>{{_ Version}}</th>
    <th>{{_ CPUs}}</th><th>{{_ Memory (MiB)}}</th><th>{{_ Free memory (MiB)}}</th>
    <th>{{_ Accelerator}}</th><th>{{_ Virtual machines}}</th><th>{{_ New VMs}}</th><th></th>
  </tr></thead>
  <tbody>
  {{#items}}
    <tr data-name="{{name}}">
      <td>{{name}}</td>
      <td>{{#local}}{{_ this helper's own}}{{/local}}{{uri}}</td>
      <td class="state-{{state}}">{{#state_is_up}}{{_ Up}}{{/state_is_up}}{{#state_is_down}}{{_ Down}}{{/state_is_down}}{{#state_is_unknown}}{{_ Unknown}}{{/state_is_unknown}}
        {{#last_error}}<small>{{last_error}}</small>{{/last_error}}</td>
      <td>{{libvirt_version}}</td><td>{{cpus}}</td><td>{{memory_mb}}</td><td>{{free_memory_mb}}</td>
      <td>{{accel}}</td><td>{{vm_count}}</td>
      <td class="host-enabled">{{#enabled}}{{_ placed here}}{{/enabled}}{{#disabled}}{{_ not placed here}}{{/disabled}}</td>
      <td>{{#removable}}<form method="post" action="/hosts/{{id}}/delete"><input type="hidden" name="csrf_token" value="{{csrf_token}}"><button class="button danger">{{_ Remove}}</button></form>{{/removable}}</td>
    </tr>
  {{/items}}
  </tbody>
</table>

<section class="card narrow">
  <h2>{{_ Add a host}}</h2>
  <form method="post" action="/hosts" class="form" id="new-host">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="name">{{_ Name}}</label>
    <input id="name" name="name" required maxlength="64">
    <label for="uri">{{_ libvirt URI}}</label>
    <input id="uri" name="uri" required maxlength="255" placeholder="qemu+ssh://root@host/system">
    <label for="migration_address">{{_ Migration address}}</label>
    <input id="migration_address" name="migration_address" maxlength="64">
    <button class="button primary">{{_ Add}}</button>
  </form>
</section>
