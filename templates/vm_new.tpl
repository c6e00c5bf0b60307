{{%AUTOESCAPE context="HTML"}}<h1>{{_ New virtual machine}}</h1>
<div class="columns">
<section class="card narrow">
  <h2>{{_ From a template}}</h2>
  <form method="post" action="/vms/new" class="form" id="new-vm-form">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="name">{{_ Name}}</label>
    <input id="name" name="name" required maxlength="64" autofocus value="{{#form}}{{name}}{{/form}}">
    <label for="template_id">{{_ Template}}</label>
    <select id="template_id" name="template_id" required>
      {{#templates}}<option value="{{id}}"{{#selected}} selected{{/selected}} data-vcpus="{{default_vcpus}}" data-memory="{{default_memory_mb}}" data-disk="{{default_disk_gb}}" data-min-vcpus="{{min_vcpus}}" data-min-memory="{{min_memory_mb}}" data-min-disk="{{min_disk_gb}}">{{name}} ({{os}}, {{arch}})</option>{{/templates}}
    </select>
    {{#templates_empty}}<p class="muted">{{_ No template is available yet.}}</p>{{/templates_empty}}
    <p class="muted" id="size-limits">{{_ Sizes allowed here}}: {{vm_min_vcpus}}–{{vm_max_vcpus}} {{_ vCPUs}}, {{vm_min_memory_mb}}–{{vm_max_memory_mb}} MiB, {{vm_min_disk_gb}}–{{vm_max_disk_gb}} GiB</p>
    <fieldset class="choice">
      <legend>{{_ Disk}}</legend>
      <label><input type="radio" name="clone" value="linked" id="clone-linked"{{#not_full_clone}} checked{{/not_full_clone}}> {{_ Linked clone: ready at once, shares the template's disk}}</label>
      <label><input type="radio" name="clone" value="full" id="clone-full"{{#full_clone}} checked{{/full_clone}}> {{_ Full clone: a copy of its own, made in a task}}</label>
    </fieldset>
    <label for="vcpus">{{_ vCPUs}}</label>
    <input id="vcpus" name="vcpus" type="number" min="{{vm_min_vcpus}}" max="{{vm_max_vcpus}}" value="{{vcpus}}" required>
    <label for="memory_mb">{{_ Memory (MiB)}}</label>
    <input id="memory_mb" name="memory_mb" type="number" min="{{vm_min_memory_mb}}" max="{{vm_max_memory_mb}}" value="{{memory_mb}}" required>
    <label for="max_memory_mb">{{_ Maximum memory (MiB)}}</label>
    <input id="max_memory_mb" name="max_memory_mb" type="number" min="64" value="{{max_memory_mb}}" aria-describedby="max-memory-help">
    <p class="muted" id="max-memory-help">{{_ Room to add memory while the machine runs, in steps of 128 MiB; leave empty for none.}}</p>
    <label for="cpu_model">{{_ CPU model}}</label>
    <select id="cpu_model" name="cpu_model" aria-describedby="cpu-model-help">
      {{#cpu_choices}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/cpu_choices}}
    </select>
    <p class="muted" id="cpu-model-help">{{_ host-model copies the host's CPU; a named model keeps the guest movable between hosts.}}</p>
    <label for="disk_gb">{{_ Disk (GiB)}}</label>
    <input id="disk_gb" name="disk_gb" type="number" min="{{vm_min_disk_gb}}" max="{{vm_max_disk_gb}}" value="{{disk_gb}}" required>
    {{#has_storage_pools}}<label for="pool">{{_ Storage pool}}</label>
    <select id="pool" name="pool">
      <option value="">{{_ Default}}</option>
      {{#storage_pools}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/storage_pools}}
    </select>{{/has_storage_pools}}
    <label for="network_id">{{_ Network}}</label>
    <select id="network_id" name="network_id">
      {{#networks}}<option value="{{id}}">{{name}}</option>{{/networks}}
    </select>
    <label for="description">{{_ Description}}</label>
    <input id="description" name="description" maxlength="1000" value="{{#form}}{{description}}{{/form}}">
    <label><input type="checkbox" name="start" value="true" checked> {{_ Start it now}}</label>
    <button type="submit" class="primary">{{_ Create}}</button>
  </form>
</section>
<section class="card narrow">
  <h2>{{_ From an ISO image}}</h2>
  <form method="post" action="/vms/new" class="form" id="new-vm-iso-form">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="iso-name">{{_ Name}}</label>
    <input id="iso-name" name="name" required maxlength="64" value="{{#form}}{{name}}{{/form}}">
    <label for="iso_id">{{_ ISO image}}</label>
    <select id="iso_id" name="iso_id" required>
      {{#isos}}<option value="{{id}}">{{name}} ({{arch}}, {{size_mb}} MiB)</option>{{/isos}}
    </select>
    {{#isos_empty}}<p class="muted">{{_ No ISO image is available yet.}}</p>{{/isos_empty}}
    <label for="iso-vcpus">{{_ vCPUs}}</label>
    <input id="iso-vcpus" name="vcpus" type="number" min="{{vm_min_vcpus}}" max="{{vm_max_vcpus}}" value="{{iso_vcpus}}" required>
    <label for="iso-memory_mb">{{_ Memory (MiB)}}</label>
    <input id="iso-memory_mb" name="memory_mb" type="number" min="{{vm_min_memory_mb}}" max="{{vm_max_memory_mb}}" value="{{iso_memory_mb}}" required>
    <label for="iso-disk_gb">{{_ Disk (GiB)}}</label>
    <input id="iso-disk_gb" name="disk_gb" type="number" min="{{vm_min_disk_gb}}" max="{{vm_max_disk_gb}}" value="{{iso_disk_gb}}" required>
    <input type="hidden" name="start" value="true">
    <button type="submit" class="primary">{{_ Create and boot the installer}}</button>
  </form>
  <p><a href="/vms/install" id="install-wizard">{{_ Or use the install wizard: cloud-init, kickstart or preseed, step by step}}</a></p>
</section>
</div>
