{{%AUTOESCAPE context="HTML"}}
<section class="card" id="hardware">
  <h2>{{_ Hardware}}</h2>
  <p class="muted" id="hardware-live-note">{{#state_is_running}}{{_ The machine runs: virtio and SCSI disks are added and removed live (the guest must let go of a disk before it is gone), disks grow live, the CD-ROM changes at once and vCPUs can be added up to the maximum. SATA disks, fewer vCPUs, memory and the CPU topology wait until it is stopped.}}{{/state_is_running}}{{#state_is_stopped}}{{_ The machine is stopped: every change here is stored and takes effect at the next start.}}{{/state_is_stopped}}</p>
  <h3>{{_ Disks}}</h3>
  <table id="disks">
    <thead><tr><th>{{_ Device}}</th><th>{{_ Bus}}</th><th>{{_ Format}}</th><th>{{_ Cache}}</th><th>{{_ Size (GiB)}}</th><th></th></tr></thead>
    <tbody>
    {{#disks}}
      <tr data-target="{{target}}"><td>{{target}}{{#state_is_removing}} ({{_ being removed}}){{/state_is_removing}}</td><td>{{bus}}</td><td>{{format}}</td><td>{{cache}}</td><td>{{size_gb}}</td>
      <td>
        <form method="post" action="/vms/{{id}}/disks/{{target}}/resize" class="inline">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}">
          <input type="number" name="size_gb" min="{{size_gb}}" value="{{size_gb}}" aria-label="{{_ New size (GiB)}}">
          <button>{{_ Grow}}</button>
        </form>
        {{#removable}}
        <form method="post" action="/vms/{{id}}/disks/{{target}}/delete" class="inline">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}">
          <button class="danger">{{_ Remove}}</button>
        </form>
        {{/removable}}
      </td></tr>
    {{/disks}}
    </tbody>
  </table>
  <form method="post" action="/vms/{{id}}/disks" class="form inline" id="add-disk">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label>{{_ Size (GiB)}} <input type="number" name="size_gb" min="1" value="1" required></label>
    <label>{{_ Bus}} <select name="bus"><option value="virtio">virtio</option><option value="scsi">SCSI</option><option value="sata">SATA</option></select></label>
    <label>{{_ Format}} <select name="format"><option value="qcow2">qcow2</option><option value="raw">raw</option></select></label>
    <label>{{_ Cache}} <select name="cache"><option value="default">{{_ default}}</option><option value="none">none</option><option value="writeback">writeback</option><option value="writethrough">writethrough</option></select></label>
    <button>{{_ Add disk}}</button>
  </form>
  <h3>{{_ CD-ROM}}</h3>
  <p id="cdrom">{{cdrom_name}}{{#cdrom_empty}}{{_ Empty}}{{/cdrom_empty}}</p>
  <form method="post" action="/vms/{{id}}/cdrom" class="form inline" id="cdrom-insert">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <select name="iso_id" aria-label="{{_ ISO image}}">{{#cdrom_isos}}<option value="{{id}}"{{#inserted}} selected{{/inserted}}>{{name}}</option>{{/cdrom_isos}}</select>
    <button>{{_ Insert}}</button>
  </form>
  <form method="post" action="/vms/{{id}}/cdrom" class="inline" id="cdrom-eject">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <input type="hidden" name="eject" value="true">
    <button>{{_ Eject}}</button>
  </form>
  <h3>{{_ vCPUs}}</h3>
  <form method="post" action="/vms/{{id}}/vcpus" class="form inline" id="vcpus">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label>{{_ vCPUs}} <input type="number" name="vcpus" min="1" max="{{max_vcpus}}" value="{{vcpus}}"></label>
    {{#state_is_running}}<input type="hidden" name="live" value="true">{{/state_is_running}}
    <span class="muted">{{_ Maximum}}: {{max_vcpus}}</span>
    <button>{{_ Apply}}</button>
  </form>
</section>
