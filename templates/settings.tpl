{{%AUTOESCAPE context="HTML"}}<h1>{{_ Settings}}</h1>
<section class="card narrow">
  <h2>{{_ Self-registration}}</h2>
  <p class="muted">{{_ When on, visitors can create their own accounts (as normal users) on the registration page.}}</p>
  <form method="post" action="/settings" class="form" id="settings-form">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="registration">{{_ Self-registration}}</label>
    <select id="registration" name="registration">
      <option value="false">{{_ Off}}</option>
      <option value="true" {{#registration}}selected{{/registration}}>{{_ On}}</option>
    </select>
    <button type="submit" class="primary">{{_ Save}}</button>
  </form>
</section>
<section class="card narrow" id="vm-limits">
  <h2>{{_ Sizes of a virtual machine}}</h2>
  <p class="muted">{{_ Every new or changed virtual machine must fit these limits; the create form offers no more and no less.}}</p>
  <form method="post" action="/settings" class="form" id="limits-form">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <fieldset>
      <legend>{{_ vCPUs}}</legend>
      <label for="vm_min_vcpus">{{_ At least}}</label>
      <input id="vm_min_vcpus" name="vm_min_vcpus" type="number" min="1" max="1024" value="{{vm_min_vcpus}}" required>
      <label for="vm_max_vcpus">{{_ At most}}</label>
      <input id="vm_max_vcpus" name="vm_max_vcpus" type="number" min="1" max="1024" value="{{vm_max_vcpus}}" required>
    </fieldset>
    <fieldset>
      <legend>{{_ Memory (MiB)}}</legend>
      <label for="vm_min_memory_mb">{{_ At least}}</label>
      <input id="vm_min_memory_mb" name="vm_min_memory_mb" type="number" min="64" value="{{vm_min_memory_mb}}" required>
      <label for="vm_max_memory_mb">{{_ At most}}</label>
      <input id="vm_max_memory_mb" name="vm_max_memory_mb" type="number" min="64" value="{{vm_max_memory_mb}}" required>
    </fieldset>
    <fieldset>
      <legend>{{_ Disk (GiB)}}</legend>
      <label for="vm_min_disk_gb">{{_ At least}}</label>
      <input id="vm_min_disk_gb" name="vm_min_disk_gb" type="number" min="1" value="{{vm_min_disk_gb}}" required>
      <label for="vm_max_disk_gb">{{_ At most}}</label>
      <input id="vm_max_disk_gb" name="vm_max_disk_gb" type="number" min="1" value="{{vm_max_disk_gb}}" required>
    </fieldset>
    <button type="submit" class="primary" id="limits-save">{{_ Save}}</button>
  </form>
</section>
