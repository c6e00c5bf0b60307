{{%AUTOESCAPE context="HTML"}}<h1>{{_ Install wizard}}</h1>
<ol class="steps" id="wizard-steps">
  <li{{#step_choose}} class="current" aria-current="step"{{/step_choose}}>{{_ ISO and automation}}</li>
  <li{{#step_fields}} class="current" aria-current="step"{{/step_fields}}>{{_ Install settings}}</li>
  <li{{#step_review}} class="current" aria-current="step"{{/step_review}}>{{_ Review}}</li>
</ol>
<section class="card narrow">
<form method="post" action="/vms/install" class="form" id="wizard-form">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  {{#step_choose}}{{#values}}
  <input type="hidden" name="step" value="fields">
  <label for="name">{{_ Name}}</label>
  <input id="name" name="name" required maxlength="64" autofocus value="{{name}}">
  <label for="iso_id">{{_ ISO image}}</label>
  <select id="iso_id" name="iso_id" required>
    {{#isos}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}} ({{size_mb}} MiB)</option>{{/isos}}
  </select>
  <label for="vcpus">{{_ vCPUs}}</label>
  <input id="vcpus" name="vcpus" type="number" min="1" max="64" value="{{vcpus}}" required>
  <label for="memory_mb">{{_ Memory (MiB)}}</label>
  <input id="memory_mb" name="memory_mb" type="number" min="64" step="64" value="{{memory_mb}}" required>
  <label for="disk_gb">{{_ Disk (GiB)}}</label>
  <input id="disk_gb" name="disk_gb" type="number" min="1" value="{{disk_gb}}" required>
  <label for="network_id">{{_ Network}}</label>
  <select id="network_id" name="network_id">
    {{#networks}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/networks}}
  </select>
  <fieldset class="choice">
    <legend>{{_ Automation}}</legend>
    {{#automations}}<label><input type="radio" name="install_type" value="{{value}}" id="install-type-{{value}}"{{#selected}} checked{{/selected}}> {{label}}</label>{{/automations}}
  </fieldset>
  <label for="install_config_id">{{_ Saved install config}}</label>
  <select id="install_config_id" name="install_config_id">
    <option value="0">{{_ None}}</option>
    {{#configs}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}}{{#shared}} ({{_ shared}}){{/shared}}</option>{{/configs}}
  </select>
  <button type="submit" class="primary">{{_ Next}}</button>
  {{/values}}{{/step_choose}}

  {{#step_fields}}{{#values}}
  <input type="hidden" name="step" value="review">
  <input type="hidden" name="name" value="{{name}}">
  <input type="hidden" name="iso_id" value="{{iso_id}}">
  <input type="hidden" name="vcpus" value="{{vcpus}}">
  <input type="hidden" name="memory_mb" value="{{memory_mb}}">
  <input type="hidden" name="disk_gb" value="{{disk_gb}}">
  <input type="hidden" name="network_id" value="{{network_id}}">
  <input type="hidden" name="install_type" value="{{install_type}}">
  <input type="hidden" name="install_config_id" value="{{install_config_id}}">
  {{#automated}}
  <label for="hostname">{{_ Host name}}</label>
  <input id="hostname" name="hostname" maxlength="63" value="{{hostname}}" autofocus>
  <label for="user">{{_ User}}</label>
  <input id="user" name="user" maxlength="32" value="{{user}}" autocomplete="off">
  <label for="password">{{_ Password}}</label>
  <input id="password" name="password" type="password" maxlength="256" autocomplete="new-password">
  <label for="ssh_keys">{{_ SSH public keys (one a line)}}</label>
  <textarea id="ssh_keys" name="ssh_keys" rows="3">{{ssh_keys:pre_escape}}</textarea>
  <label for="packages">{{_ Packages (separated by spaces)}}</label>
  <input id="packages" name="packages" value="{{packages}}">
  <label for="commands">{{_ Commands to run at the end (one a line)}}</label>
  <textarea id="commands" name="commands" rows="3">{{commands:pre_escape}}</textarea>
  {{#is_cloud_init}}
  <label for="user_data">{{_ Your own user-data (#cloud-config), merged with the above}}</label>
  <textarea id="user_data" name="user_data" rows="6">{{user_data:pre_escape}}</textarea>
  {{/is_cloud_init}}
  {{/automated}}
  {{#not_automated}}<p>{{_ The installer runs as it is: you answer its questions on the console.}}</p>{{/not_automated}}
  <fieldset class="choice">
    <legend>{{_ When the installer powers off}}</legend>
    <label><input type="radio" name="after_install" value="start"{{#after_start}} checked{{/after_start}}> {{_ Start the machine from its disk}}</label>
    <label><input type="radio" name="after_install" value="wait"{{#after_wait}} checked{{/after_wait}}> {{_ Leave it stopped}}</label>
  </fieldset>
  <button type="submit" class="primary">{{_ Review}}</button>
  {{/values}}{{/step_fields}}

  {{#step_review}}{{#values}}
  <input type="hidden" name="step" value="create">
  <input type="hidden" name="name" value="{{name}}">
  <input type="hidden" name="iso_id" value="{{iso_id}}">
  <input type="hidden" name="vcpus" value="{{vcpus}}">
  <input type="hidden" name="memory_mb" value="{{memory_mb}}">
  <input type="hidden" name="disk_gb" value="{{disk_gb}}">
  <input type="hidden" name="network_id" value="{{network_id}}">
  <input type="hidden" name="install_type" value="{{install_type}}">
  <input type="hidden" name="install_config_id" value="{{install_config_id}}">
  <input type="hidden" name="hostname" value="{{hostname}}">
  <input type="hidden" name="user" value="{{user}}">
  <input type="hidden" name="password" value="{{password}}">
  <input type="hidden" name="packages" value="{{packages}}">
  {{! Lines are kept only in a textarea (an attribute's escaping folds them) }}
  <textarea name="ssh_keys" hidden>{{ssh_keys:pre_escape}}</textarea>
  <textarea name="commands" hidden>{{commands:pre_escape}}</textarea>
  <textarea name="user_data" hidden>{{user_data:pre_escape}}</textarea>
  <input type="hidden" name="after_install" value="{{after_install}}">
  <dl class="facts" id="review">
    <dt>{{_ Name}}</dt><dd>{{name}}</dd>
    <dt>{{_ ISO image}}</dt><dd>{{iso_name}}</dd>
    <dt>{{_ Size}}</dt><dd>{{vcpus}} vCPU, {{memory_mb}} MiB, {{disk_gb}} GiB</dd>
    <dt>{{_ Automation}}</dt><dd id="review-type">{{automation_label}}</dd>
    {{#automated}}<dt>{{_ Host name}}</dt><dd id="review-hostname">{{hostname}}</dd>
    <dt>{{_ User}}</dt><dd>{{user}}</dd>{{/automated}}
  </dl>
  {{#has_rendered}}<h2>{{_ What the installer gets}}</h2>
  <pre id="rendered">{{rendered:pre_escape}}</pre>{{/has_rendered}}
  <button type="submit" class="primary">{{_ Create and install}}</button>
  {{/values}}{{/step_review}}
</form>
</section>
