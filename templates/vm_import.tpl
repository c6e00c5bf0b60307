{{%AUTOESCAPE context="HTML"}}{{#ova_import}}<h1>{{_ Import a virtual machine}}: {{name}}</h1>
<p><a href="/uploads">{{_ Upload another}}</a></p>
<section class="card narrow" id="import-review" data-state="{{state}}">
  <h2>{{_ What the package asks for}}</h2>
  <dl class="facts">
    <dt>{{_ File}}</dt><dd id="import-file">{{filename}}</dd>
    <dt>{{_ Virtual CPUs}}</dt><dd id="import-vcpus">{{vcpus}}</dd>
    <dt>{{_ Memory}}</dt><dd id="import-memory">{{memory_mb}} MiB</dd>
    <dt>{{_ Firmware}}</dt><dd id="import-firmware">{{firmware}}{{#not_firmware_supported}} <span class="error">{{_ (not available here: x86_64 machines boot with BIOS)}}</span>{{/not_firmware_supported}}</dd>
    {{#disks}}<dt>{{_ Disk}}</dt><dd class="import-disk">{{source_format}} → {{format}}, {{disk_gb}} GiB</dd>{{/disks}}
  </dl>
  {{#reviewable}}
  <form method="post" action="/vms/imports/{{id}}/create" class="form" id="import-form">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="import-name">{{_ Name}}</label>
    <input id="import-name" name="name" maxlength="64" required value="{{name}}">
    <label for="import-vcpus-field">{{_ Virtual CPUs}}</label>
    <input id="import-vcpus-field" name="vcpus" type="number" min="1" max="64" value="{{vcpus}}">
    <label for="import-memory-field">{{_ Memory (MiB)}}</label>
    <input id="import-memory-field" name="memory_mb" type="number" min="64" value="{{memory_mb}}">
    <h3>{{_ Network adapters}}</h3>
    {{#nics}}
    <label for="import-nic-{{position}}">{{name}} ({{model}}, {{_ in the package on}} “{{network}}”)</label>
    <select id="import-nic-{{position}}" name="network_ids" class="import-nic">
      {{#choices}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/choices}}
    </select>
    {{/nics}}
    {{#has_pools}}<label for="import-pool">{{_ Storage pool}}</label>
    <select id="import-pool" name="pool"><option value="">{{_ The helper's own}}</option>{{#pools}}<option value="{{id}}">{{name}}</option>{{/pools}}</select>{{/has_pools}}
    <button type="submit" class="primary" id="import-create">{{_ Make the virtual machine}}</button>
  </form>
  <form method="post" action="/vms/imports/{{id}}/discard" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button class="danger" id="import-discard">{{_ Discard this import}}</button>
  </form>
  {{/reviewable}}
  {{#not_reviewable}}<p id="import-made">{{_ A virtual machine was made from this import.}} <a href="/vms/{{vm_id}}" id="import-vm">{{_ Open it}}</a></p>{{/not_reviewable}}
</section>
{{/ova_import}}
