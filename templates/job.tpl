{{%AUTOESCAPE context="HTML"}}{{#job}}
<h1>{{kind_label}} <span class="muted">#{{id}}</span></h1>
<p><a href="/jobs">{{_ All tasks}}</a></p>
<div id="job-live" data-live>
<section class="card" id="job" data-state="{{state}}">
  <dl class="facts">
    <dt>{{_ State}}</dt><dd id="job-state"><span class="state state-{{state}}">{{#state_is_queued}}{{_ Queued}}{{/state_is_queued}}{{#state_is_running}}{{_ Running}}{{/state_is_running}}{{#state_is_succeeded}}{{_ Done}}{{/state_is_succeeded}}{{#state_is_failed}}{{_ Failed}}{{/state_is_failed}}{{#state_is_cancelled}}{{_ Cancelled}}{{/state_is_cancelled}}</span></dd>
    <dt>{{_ Result}}</dt><dd id="job-summary">{{summary}}</dd>
    <dt>{{_ Message}}</dt><dd id="job-message">{{message_text}}</dd>
    <dt>{{_ Progress}}</dt><dd><progress max="100" value="{{progress}}" aria-label="{{_ Progress}}">{{progress}}%</progress> <span id="job-progress">{{progress}}%</span></dd>
    <dt>{{_ Target}}</dt><dd id="job-target">{{#target}}{{#linked}}<a href="{{href}}">{{name}}</a>{{/linked}}{{#not_linked}}{{name}}{{/not_linked}}{{/target}}</dd>
    <dt>{{_ Started by}}</dt><dd>{{owner_name}}</dd>
    <dt>{{_ Queued at}}</dt><dd><time datetime="{{created_at}}">{{created_at}}</time></dd>
    <dt>{{_ Started at}}</dt><dd><time datetime="{{started_at}}">{{started_at}}</time></dd>
    <dt>{{_ Finished at}}</dt><dd id="job-finished"><time datetime="{{finished_at}}">{{finished_at}}</time></dd>
    <dt>{{_ Duration}}</dt><dd>{{duration}}</dd>
  </dl>
  {{#cancellable}}
  <form method="post" action="/jobs/{{id}}/cancel" class="inline">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button id="cancel" class="danger">{{_ Cancel this task}}</button>
  </form>
  {{/cancellable}}
</section>
<section class="card" id="job-log-card">
  <h2>{{_ Log}}</h2>
  <ol class="job-log" id="job-log">
    {{#log}}<li><time datetime="{{at}}">{{at}}</time> {{line}}</li>{{/log}}
  </ol>
  {{#log_empty}}<p class="muted">{{_ Nothing logged yet.}}</p>{{/log_empty}}
</section>
</div>
{{/job}}
