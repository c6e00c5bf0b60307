{{%AUTOESCAPE context="HTML"}}<h1>{{_ Host}} {{hostname}}</h1>
<section class="card" id="host">
  <dl class="facts">
    <dt>{{_ CPUs}}</dt><dd id="cpus">{{cpus}}</dd>
    <dt>{{_ Memory (MiB)}}</dt><dd>{{memory_mb}}</dd>
    <dt>{{_ Accelerator}}</dt><dd id="accel">{{#accel_is_kvm}}KVM{{/accel_is_kvm}}{{#accel_is_qemu}}{{_ TCG (software emulation)}}{{/accel_is_qemu}}{{#accel_is_probing}}{{_ Being determined: a test guest is booting}}{{/accel_is_probing}}</dd>
    <dt>{{_ Why}}</dt><dd id="accel-reason">{{#accel_reason_code_is_config}}{{_ Set in the configuration ([helper] accel).}}{{/accel_reason_code_is_config}}{{#accel_reason_code_is_guest_ran}}{{_ A test guest ran under KVM, with the machine type and CPU mode virtual machines get.}}{{/accel_reason_code_is_guest_ran}}{{#accel_reason_code_is_kvm_failed}}{{_ A test guest did not run under KVM, so guests use TCG.}} <span class="detail">{{accel_reason}}</span>{{/accel_reason_code_is_kvm_failed}}{{#accel_reason_code_is_no_guest_ran}}{{_ No test guest ran, neither under KVM nor under TCG.}} <span class="detail">{{accel_reason}}</span>{{/accel_reason_code_is_no_guest_ran}}{{#accel_reason_code_is_other_arch}}{{_ KVM runs only guests of the host's own architecture.}}{{/accel_reason_code_is_other_arch}}{{#accel_reason_code_is_no_probe}}{{_ This architecture has no test guest yet, so its guests use TCG.}}{{/accel_reason_code_is_no_probe}}</dd>
    <dt>libvirt</dt><dd>{{libvirt_version}}</dd>
  </dl>
</section>
<table class="table" id="arches">
  <thead><tr><th>{{_ Architecture}}</th><th>{{_ Emulator}}</th><th>{{_ Machine types}}</th><th>{{_ Accelerator}}</th></tr></thead>
  <tbody>
  {{#arches}}<tr><td>{{arch}}</td><td>{{emulator}}</td><td>{{#machines}}{{value}} {{/machines}}</td><td>{{#accel_is_kvm}}KVM{{/accel_is_kvm}}{{#accel_is_qemu}}TCG{{/accel_is_qemu}}{{#accel_is_probing}}…{{/accel_is_probing}}</td></tr>{{/arches}}
  {{#arches_empty}}<tr><td colspan="4">{{_ No guest architecture is available.}}</td></tr>{{/arches_empty}}
  </tbody>
</table>
{{>METRICS_CHARTS}}
