{{%AUTOESCAPE context="HTML"}}<h1>{{_ Alert rules}}</h1>
<table class="table" id="rules">
  <thead><tr><th>{{_ Name}}</th><th>{{_ Target}}</th><th>{{_ Condition}}</th><th>{{_ Duration (s)}}</th><th>{{_ Severity}}</th><th>{{_ Action}}</th><th>{{_ Enabled}}</th><th></th></tr></thead>
  <tbody>
  {{#items}}<tr data-rule="{{id}}"><td><a href="/alert-rules/{{id}}">#{{id}} {{name}}</a></td><td>{{target}}</td><td>{{metric}} {{condition}} {{threshold}}</td><td>{{duration_s}}</td><td>{{severity}}</td><td>{{action}}</td><td>{{#enabled}}✓{{/enabled}}</td>
    <td><form method="post" action="/alert-rules/{{id}}/delete" class="inline">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <button class="delete-rule">{{_ Delete}}</button>
    </form></td></tr>{{/items}}
  {{#items_empty}}<tr><td colspan="8">{{_ No alert rules yet.}}</td></tr>{{/items_empty}}
  </tbody>
</table>
<p><a href="/alerts">{{_ Alert history}}</a> · <a href="/notification-channels">{{_ Notification channels}}</a></p>

<section class="card narrow">
  <h2>{{_ New alert rule}}</h2>
  <form method="post" action="/alert-rules" class="form" id="new-rule">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="name">{{_ Name}}</label>
    <input id="name" name="name" maxlength="100" value="{{#form}}{{name}}{{/form}}">
    <label for="metric">{{_ What to watch}}</label>
    <select id="metric" name="metric">{{#metric_options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/metric_options}}</select>
    <label for="target">{{_ Target}}</label>
    <input id="target" name="target" required maxlength="40" placeholder="vm:12" value="{{#form}}{{target}}{{/form}}">
    <p class="hint">{{_ vm:ID for one virtual machine, user:ID for all of a user's, host for the host (administrators).}}</p>
    {{#error_on_target}}<p class="field-error" id="error-target">{{error_message}}</p>{{/error_on_target}}
    <label for="condition">{{_ Condition}}</label>
    <select id="condition" name="condition">{{#condition_options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/condition_options}}</select>
    <label for="threshold">{{_ Threshold}}</label>
    <input id="threshold" name="threshold" inputmode="decimal" maxlength="20" value="{{#form}}{{threshold}}{{/form}}">
    <p class="hint">{{_ Not needed for events.}}</p>
    {{#error_on_threshold}}<p class="field-error" id="error-threshold">{{error_message}}</p>{{/error_on_threshold}}
    <label for="duration_s">{{_ For at least (s)}}</label>
    <input id="duration_s" name="duration_s" type="number" min="0" max="86400" value="{{#form}}{{duration_s}}{{/form}}">
    {{#error_on_duration_s}}<p class="field-error" id="error-duration_s">{{error_message}}</p>{{/error_on_duration_s}}
    <label for="severity">{{_ Severity}}</label>
    <select id="severity" name="severity">{{#severity_options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/severity_options}}</select>
    <label for="action">{{_ Action}}</label>
    <select id="action" name="action">{{#action_options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/action_options}}</select>
    {{#error_on_action}}<p class="field-error" id="error-action">{{error_message}}</p>{{/error_on_action}}
    <label for="repeat_s">{{_ Notify again every (s, 0: never; for events: the cooldown)}}</label>
    <input id="repeat_s" name="repeat_s" type="number" min="0" value="{{#form}}{{repeat_s}}{{/form}}">
    <fieldset><legend>{{_ Channels}}</legend>
    {{#channel_options}}<label><input type="checkbox" name="channel_ids" value="{{id}}"{{#checked}} checked{{/checked}}> {{name}} ({{type}})</label>{{/channel_options}}
    </fieldset>
    {{#error_on_channel_ids}}<p class="field-error" id="error-channel_ids">{{error_message}}</p>{{/error_on_channel_ids}}
    <button type="submit" class="primary">{{_ Create rule}}</button>
  </form>
</section>
