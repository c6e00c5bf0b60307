{{%AUTOESCAPE context="HTML"}}{{#vm}}<h1>{{_ Migrate}}: {{name}}</h1>
<p><a href="/vms/{{id}}">{{_ Back to the virtual machine}}</a></p>{{/vm}}
{{#check}}
<section class="card narrow" id="migrate-verdict" data-ok="{{#ok}}true{{/ok}}{{#not_ok}}false{{/not_ok}}">
  <h2>{{_ Pre-check}}</h2>
  <dl class="facts">
    <dt>{{_ From}}</dt><dd id="migrate-source">{{#vm}}{{host_name}}{{/vm}}</dd>
    <dt>{{_ To}}</dt><dd id="migrate-destination">{{destination_name}}</dd>
    <dt>{{_ Mode}}</dt><dd id="migrate-mode">{{#mode_is_live}}{{_ Live (shared storage)}}{{/mode_is_live}}{{#mode_is_live_storage}}{{_ Live with storage copy}}{{/mode_is_live_storage}}{{#mode_is_offline}}{{_ Offline}}{{/mode_is_offline}}</dd>
  </dl>
  {{#not_ok}}
  <p class="error" id="migrate-blocked">{{_ This migration cannot start now:}}</p>
  <ul id="migrate-blockers">{{#blockers}}<li data-code="{{code}}">{{text}}</li>{{/blockers}}</ul>
  {{/not_ok}}
  {{#ok}}
  <p class="notice" id="migrate-ok">{{_ The pre-check found nothing in the way. The machine moves when you confirm; the task shows its progress.}}</p>
  <form method="post" action="/vms/{{#vm}}{{id}}{{/vm}}/migrate" class="form" id="migrate-confirm">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <input type="hidden" name="host_id" value="{{host_id}}">
    <input type="hidden" name="mode" value="{{mode}}">
    <button type="submit" class="primary" id="migrate-confirm-button">{{_ Migrate now}}</button>
  </form>
  {{/ok}}
</section>
{{/check}}
