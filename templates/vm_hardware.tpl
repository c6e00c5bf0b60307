{{%AUTOESCAPE context="HTML"}}
<section class="card" id="hardware">
  <h2>{{_ Hardware}}</h2>
  <p class="muted" id="hardware-live-note">{{#state_is_running}}{{_ The machine runs: virtio and SCSI disks are added and removed live (the guest must let go of a disk before it is gone), disks grow live, the CD-ROM changes at once, and vCPUs and memory can be added up to their maximum (memory only on a machine made with room for it). SATA disks, fewer vCPUs, less memory and the CPU topology wait until it is stopped.}}{{/state_is_running}}{{#state_is_stopped}}{{_ The machine is stopped: every change here is stored and takes effect at the next start.}}{{/state_is_stopped}}</p>
  <h3>{{_ Disks}}</h3>
  <table class="table" id="disks">
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
  <h3>{{_ Network interfaces}}</h3>
  <p class="muted" id="nics-note">{{_ NICs are added and removed live (the guest must let go of a NIC before it is gone); the link goes up and down live. The model changes only while the machine is stopped.}}</p>
  <table class="table" id="interfaces">
    <thead><tr><th>{{_ MAC address}}</th><th>{{_ Network}}</th><th>{{_ Model}}</th><th>{{_ Link}}</th><th>{{_ IP address}}</th><th>{{_ Bandwidth limit}}</th><th></th></tr></thead>
    <tbody>
    {{#nics}}
      <tr data-mac="{{mac}}"><td>{{mac}}{{#state_is_removing}} ({{_ being removed}}){{/state_is_removing}}</td><td>{{network}}</td><td>{{model}}</td><td>{{#link_state_is_up}}{{_ up}}{{/link_state_is_up}}{{#link_state_is_down}}{{_ down}}{{/link_state_is_down}}</td><td>{{ip}}</td>
      <td class="bandwidth">{{#bandwidth}}{{#inbound}}{{_ in}} {{average}} KiB/s{{/inbound}}{{#outbound}} {{_ out}} {{average}} KiB/s{{/outbound}}{{/bandwidth}}</td>
      <td>
        <form method="post" action="/vms/{{id}}/interfaces/{{mac}}/update" class="inline">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}">
          {{#link_state_is_up}}<input type="hidden" name="link_state" value="down"><button>{{_ Disconnect}}</button>{{/link_state_is_up}}
          {{#link_state_is_down}}<input type="hidden" name="link_state" value="up"><button>{{_ Connect}}</button>{{/link_state_is_down}}
        </form>
        <form method="post" action="/vms/{{id}}/interfaces/{{mac}}/delete" class="inline">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}">
          <button class="danger">{{_ Remove}}</button>
        </form>
      </td></tr>
    {{/nics}}
    </tbody>
  </table>
  <form method="post" action="/vms/{{id}}/interfaces" class="form inline" id="add-interface">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label>{{_ Network}} <select name="network_id" required>{{#nic_networks}}<option value="{{id}}">{{name}}</option>{{/nic_networks}}</select></label>
    <label>{{_ Model}} <select name="model"><option value="virtio">virtio</option><option value="e1000">e1000</option><option value="rtl8139">rtl8139</option></select></label>
    <label>{{_ MAC address}} <input name="mac" maxlength="17" placeholder="{{_ generated}}"></label>
    <button>{{_ Add NIC}}</button>
  </form>
  <h3>{{_ Port forwarding}}</h3>
  <p class="muted">{{_ A port of the host leads to a port of the guest, on a NIC with an address from an IP pool on a NAT network. Host ports are limited to the ranges an administrator allows.}}</p>
  <table class="table" id="port-forwards">
    <thead><tr><th>{{_ Protocol}}</th><th>{{_ Host address}}</th><th>{{_ Host port}}</th><th>{{_ Guest}}</th><th></th></tr></thead>
    <tbody>
    {{#port_forwards}}
      <tr data-forward="{{protocol}}-{{host_port}}"><td>{{protocol}}</td><td>{{host_address}}{{#host_address_is_}}{{_ all}}{{/host_address_is_}}</td><td>{{host_port}}</td><td>{{guest_ip}}:{{guest_port}}</td>
      <td><form method="post" action="/vms/{{vm_id}}/port-forwards/{{id}}/delete" class="inline">
        <input type="hidden" name="csrf_token" value="{{csrf_token}}">
        <button class="danger">{{_ Remove}}</button>
      </form></td></tr>
    {{/port_forwards}}
    </tbody>
  </table>
  <form method="post" action="/vms/{{id}}/port-forwards" class="form inline" id="add-port-forward">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label>{{_ Protocol}} <select name="protocol"><option value="tcp">TCP</option><option value="udp">UDP</option></select></label>
    <label>{{_ Host port}} <input type="number" name="host_port" min="1" max="65535" required></label>
    <label>{{_ Guest port}} <input type="number" name="guest_port" min="1" max="65535" required></label>
    <button>{{_ Forward}}</button>
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
  {{#state_is_stopped}}
  <h3>{{_ CPU}}</h3>
  <form method="post" action="/vms/{{id}}/cpu" class="form inline" id="cpu">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label>{{_ CPU model}} <select name="model">{{#cpu_choices}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/cpu_choices}}</select></label>
    <span class="muted">{{_ The models libvirt reports this host can run with its accelerator}} ({{cpu_accel}}).</span>
    <button>{{_ Apply}}</button>
  </form>
  {{/state_is_stopped}}
  <h3>{{_ Memory}}</h3>
  <form method="post" action="/vms/{{id}}/memory" class="form inline" id="memory">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label>{{_ Memory (MiB)}} <input type="number" name="memory_mb" min="64" value="{{memory_mb}}"></label>
    {{#state_is_running}}<input type="hidden" name="live" value="true"><span class="muted">{{_ Maximum}}: {{max_memory_mb}} MiB, {{_ in steps of 128 MiB}}</span>{{/state_is_running}}
    {{#state_is_stopped}}<label>{{_ Maximum (MiB)}} <input type="number" name="max_memory_mb" min="64" value="{{max_memory_mb}}"></label>{{/state_is_stopped}}
    <button>{{_ Apply}}</button>
  </form>
</section>
