{{%AUTOESCAPE context="HTML"}}{{#job}}
<h1>{{_ Job}} {{id}}</h1>
<section class="card narrow" id="job" data-state="{{state}}">
  <dl class="facts">
    <dt>{{_ State}}</dt><dd id="job-state">{{#state_is_queued}}{{_ Queued}}{{/state_is_queued}}{{#state_is_running}}{{_ Running}}{{/state_is_running}}{{#state_is_succeeded}}{{_ Done}}{{/state_is_succeeded}}{{#state_is_failed}}{{_ Failed}}{{/state_is_failed}}{{#state_is_cancelled}}{{_ Cancelled}}{{/state_is_cancelled}}</dd>
    <dt>{{_ Progress}}</dt><dd><progress max="100" value="{{progress}}">{{progress}}%</progress> {{progress}}%</dd>
    <dt>{{_ Message}}</dt><dd>{{message}}</dd>
  </dl>
  {{#vm_id}}<p><a href="/vms/{{vm_id}}">{{_ The virtual machine}}</a></p>{{/vm_id}}
  {{#state_is_running}}
  <form method="post" action="/jobs/{{id}}/cancel" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button id="cancel">{{_ Cancel}}</button>
  </form>
  <p class="muted"><a href="/jobs/{{id}}">{{_ Refresh}}</a></p>
  {{/state_is_running}}
</section>
{{/job}}
