{{%AUTOESCAPE context="HTML"}}<h1>{{_ Template}} {{name}}</h1>
<p><a href="/templates">{{_ All templates}}</a></p>
<section class="card">
  <table class="table" id="template">
    <tbody>
      <tr><th>{{_ Architecture}}</th><td>{{arch}}</td></tr>
      <tr><th>{{_ Format}}</th><td>{{format}}</td></tr>
      <tr><th>{{_ Disk size (bytes)}}</th><td>{{virtual_size_bytes}}</td></tr>
      <tr><th>{{_ File size (bytes)}}</th><td>{{size_bytes}}</td></tr>
      <tr><th>{{_ Visibility}}</th><td>{{#visibility_is_public}}{{_ Public}}{{/visibility_is_public}}{{#visibility_is_private}}{{_ Private}}{{/visibility_is_private}}</td></tr>
      <tr><th>{{_ Status}}</th><td>{{#status_is_ready}}{{_ Ready}}{{/status_is_ready}}{{#status_is_importing}}{{_ Importing}}{{/status_is_importing}}{{#status_is_failed}}{{_ Failed}}{{/status_is_failed}}{{#status_is_quarantined}}<strong class="quarantined">{{_ Quarantined}}</strong>{{/status_is_quarantined}}</td></tr>
      {{#status_is_quarantined}}<tr><th>{{_ Why quarantined}}</th><td id="quarantine-reason">{{quarantine_reason}}</td></tr>{{/status_is_quarantined}}
      <tr><th>{{_ VMs}}</th><td id="usage-count">{{usage_count}}</td></tr>
      <tr><th>{{_ Linked clones}}</th><td id="linked-clones">{{linked_clones}}</td></tr>
      <tr><th>{{_ Created}}</th><td>{{created_at}}</td></tr>
    </tbody>
  </table>
  <div class="toolbar">
    {{#status_is_ready}}<a class="button primary" href="/vms/new">{{_ New virtual machine}}</a>
    <a class="button" href="/templates/{{id}}/download">{{_ Download}}</a>{{/status_is_ready}}
  </div>
</section>
{{#may_edit}}
<section class="card narrow">
  <h2>{{_ Edit}}</h2>
  <form method="post" action="/templates/{{id}}" class="form" id="edit-template">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="name">{{_ Name}}</label>
    <input id="name" name="name" required maxlength="64" value="{{name}}">
    <label for="category">{{_ Category}}</label>
    <input id="category" name="category" maxlength="32" value="{{category}}">
    <label for="os">{{_ OS}}</label>
    <input id="os" name="os" maxlength="64" value="{{os}}">
    <label for="min_vcpus">{{_ Minimum vCPUs}}</label>
    <input id="min_vcpus" name="min_vcpus" type="number" min="1" max="256" value="{{min_vcpus}}">
    <label for="min_memory_mb">{{_ Minimum memory (MiB)}}</label>
    <input id="min_memory_mb" name="min_memory_mb" type="number" min="16" max="1048576" value="{{min_memory_mb}}">
    <label for="min_disk_gb">{{_ Minimum disk (GiB)}}</label>
    <input id="min_disk_gb" name="min_disk_gb" type="number" min="1" max="65536" value="{{min_disk_gb}}">
    <label for="description">{{_ Description}}</label>
    <textarea id="description" name="description" maxlength="2000">{{description}}</textarea>
    {{#may_publish}}
    <label for="visibility">{{_ Visibility}}</label>
    <select id="visibility" name="visibility">
      <option value="public">{{_ Public}}</option>
      <option value="private" {{#visibility_is_private}}selected{{/visibility_is_private}}>{{_ Private}}</option>
    </select>
    {{/may_publish}}
    <button type="submit" class="primary">{{_ Save}}</button>
  </form>
  <form method="post" action="/templates/{{id}}/delete" class="inline" id="delete-template" data-confirm="{{_ Delete the template}} “{{name}}”? {{_ Its disk image is removed for good.}}">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button type="submit">{{_ Delete}}</button>
  </form>
</section>
{{/may_edit}}
