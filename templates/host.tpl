{{%AUTOESCAPE context="HTML"}}<h1>{{_ Host}} {{hostname}}</h1>
<section class="card" id="host">
  <dl class="facts">
    <dt>{{_ CPUs}}</dt><dd id="cpus">{{cpus}}</dd>
    <dt>{{_ Memory (MiB)}}</dt><dd>{{memory_mb}}</dd>
    <dt>{{_ Accelerator}}</dt><dd id="accel">{{#accel_is_kvm}}KVM{{/accel_is_kvm}}{{#accel_is_qemu}}{{_ TCG (software emulation)}}{{/accel_is_qemu}}</dd>
    <dt>libvirt</dt><dd>{{libvirt_version}}</dd>
  </dl>
</section>
<table class="table" id="arches">
  <thead><tr><th>{{_ Architecture}}</th><th>{{_ Emulator}}</th><th>{{_ Machine types}}</th></tr></thead>
  <tbody>
  {{#arches}}<tr><td>{{arch}}</td><td>{{emulator}}</td><td>{{#machines}}{{value}} {{/machines}}</td></tr>{{/arches}}
  {{#arches_empty}}<tr><td colspan="3">{{_ No guest architecture is available.}}</td></tr>{{/arches_empty}}
  </tbody>
</table>
{{>METRICS_CHARTS}}
