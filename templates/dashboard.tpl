{{%AUTOESCAPE context="HTML"}}<h1>{{_ Dashboard}}</h1>
<div id="dashboard-live" data-live>
<div class="columns">
<section class="card" id="vm-states">
  <h2>{{_ Virtual machines}} <span class="muted">({{#counts}}{{vms}}{{/counts}})</span></h2>
  <ul class="state-counts">
    {{#vm_states}}<li><a href="{{href}}" data-state="{{state}}"><span class="state state-{{state}}">{{label}}</span> <strong>{{count}}</strong></a></li>{{/vm_states}}
  </ul>
  <p><a class="button primary" href="/vms/new">{{_ New virtual machine}}</a></p>
</section>
<section class="card" id="quota">
  <h2>{{_ Your quota}}</h2>
  <dl class="bars">
    {{#quota}}<dt>{{label}}</dt><dd><meter min="0" max="100" value="{{percent}}" high="90" aria-label="{{label}}">{{percent}}%</meter> <span{{#full}} class="quarantined"{{/full}}>{{used}} / {{limit}}</span></dd>{{/quota}}
  </dl>
</section>
<section class="card" id="host-use">
  <h2>{{_ This host}}</h2>
  {{#host}}{{#available}}
  <dl class="bars">
    <dt>{{_ CPU load}}</dt><dd><meter min="0" max="100" value="{{cpu_percent}}" high="90" aria-label="{{_ CPU load}}">{{cpu_percent}}%</meter> {{cpu_percent}}% · {{cpus}} {{_ CPUs}}</dd>
    <dt>{{_ Memory}}</dt><dd><meter min="0" max="100" value="{{memory_percent}}" high="90" aria-label="{{_ Memory}}">{{memory_percent}}%</meter> {{memory_used_mb}} / {{memory_total_mb}} MiB</dd>
    <dt>{{_ Disk}}</dt><dd><meter min="0" max="100" value="{{disk_percent}}" high="90" aria-label="{{_ Disk}}">{{disk_percent}}%</meter> {{disk_used_gb}} / {{disk_total_gb}} GiB</dd>
  </dl>
  <p class="muted"><a href="/host">{{hostname}}</a></p>
  {{/available}}{{#not_available}}<p class="muted">{{_ The host does not answer just now.}}</p>{{/not_available}}{{/host}}
</section>
</div>
<div class="columns">
<section class="card" id="recent-jobs">
  <h2>{{_ Recent tasks}}</h2>
  <ul class="plain">
    {{#recent_jobs}}<li class="job-{{state}}"><a href="/jobs/{{id}}">{{kind_label}}</a> {{target}} <span class="state state-{{state}}">{{#state_is_queued}}{{_ Queued}}{{/state_is_queued}}{{#state_is_running}}{{_ Running}}{{/state_is_running}}{{#state_is_succeeded}}{{_ Done}}{{/state_is_succeeded}}{{#state_is_failed}}{{_ Failed}}{{/state_is_failed}}{{#state_is_cancelled}}{{_ Cancelled}}{{/state_is_cancelled}}</span> <time datetime="{{created_at}}">{{created_at}}</time></li>{{/recent_jobs}}
  </ul>
  {{#recent_jobs_empty}}<p class="muted">{{_ No tasks yet.}}</p>{{/recent_jobs_empty}}
  <p><a href="/jobs">{{_ All tasks}}</a></p>
</section>
<section class="card" id="failures">
  <h2>{{_ Failures in the last day}}</h2>
  <ul class="plain">
    {{#failures}}<li><a href="/jobs/{{id}}">{{kind_label}}</a> {{target}}: <span class="quarantined">{{message}}</span></li>{{/failures}}
  </ul>
  {{#failures_empty}}<p class="muted">{{_ None.}}</p>{{/failures_empty}}
</section>
{{#totals}}
<section class="card" id="totals">
  <h2>{{_ The portal}}</h2>
  <dl class="facts">
    <dt><a href="/users">{{_ Users}}</a></dt><dd id="users-count">{{users}}</dd>
    <dt>{{_ Enabled users}}</dt><dd>{{users_enabled}}</dd>
    <dt><a href="/isos">{{_ ISO images}}</a></dt><dd id="isos-count">{{isos}}</dd>
    <dt><a href="/templates">{{_ Templates}}</a></dt><dd id="templates-count">{{templates}}</dd>
  </dl>
</section>
{{/totals}}
{{#has_hosts}}
<section class="card" id="hosts-use">
  <h2><a href="/hosts">{{_ Hosts}}</a></h2>
  <table class="table">
    <thead><tr><th>{{_ Host}}</th><th>{{_ State}}</th><th>{{_ VMs (running)}}</th><th>{{_ vCPUs running / CPUs}}</th><th>{{_ Memory running / total}}</th></tr></thead>
    <tbody>
    {{#hosts}}
      <tr id="host-use-{{id}}">
        <td><a href="/hosts/{{id}}">{{name}}</a></td>
        <td class="host-state"><span class="state state-{{state}}">{{state}}</span>{{#not_enabled}} <span class="muted">{{_ not placed here}}</span>{{/not_enabled}}</td>
        <td class="host-vms">{{vms}} ({{running}})</td>
        <td class="host-vcpus"><progress max="100" value="{{vcpus_percent}}"></progress> {{vcpus_used}} / {{cpus}}</td>
        <td class="host-memory"><progress max="100" value="{{memory_percent}}"></progress> {{memory_used_mb}} / {{memory_mb}} MiB</td>
      </tr>
    {{/hosts}}
    </tbody>
  </table>
</section>
{{/has_hosts}}
</div>
</div>
{{! issue11-monitoring: charts and sparklines go here (one include line). }}
<!-- dashboard-charts: begin -->
{{>METRICS_CHARTS}}
<!-- dashboard-charts: end -->
{{#user}}
<section class="card" id="whoami">
  <h2>{{_ Your account}}</h2>
  <dl class="facts">
    <dt>{{_ User name}}</dt><dd id="username">{{username}}</dd>
    <dt>{{_ Display name}}</dt><dd>{{display_name}}</dd>
    <dt>{{_ Role}}</dt><dd id="role">{{#role_is_admin}}{{_ Administrator}}{{/role_is_admin}}{{#role_is_user}}{{_ User}}{{/role_is_user}}</dd>
    <dt>{{_ Last login}}</dt><dd><time datetime="{{last_login_at}}">{{last_login_at}}</time></dd>
    <dt>{{_ Member since}}</dt><dd><time datetime="{{created_at}}" data-exact>{{created_at}}</time></dd>
    <dt>{{_ Open sessions}}</dt><dd>{{#counts}}{{sessions}}{{/counts}}</dd>
  </dl>
</section>
{{/user}}
