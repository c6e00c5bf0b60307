{{%AUTOESCAPE context="HTML"}}{{#rule}}<h1>{{_ Alert rule}} {{name}}</h1>
<p><a href="/alert-rules">{{_ Alert rules}}</a> · <a href="/alerts">{{_ Alert history}}</a></p>
<section class="card narrow">
  <form method="post" action="/alert-rules/{{id}}" class="form" id="edit-rule">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <label for="name">{{_ Name}}</label>
    <input id="name" name="name" maxlength="100" value="{{name}}">
    <label for="target">{{_ Target}}</label>
    <input id="target" name="target" required maxlength="40" value="{{target}}">
    <p class="hint">{{_ vm:ID for one virtual machine, user:ID for all of a user's, host for the host (administrators).}}</p>
    {{#error_on_target}}<p class="field-error" id="error-target">{{error_message}}</p>{{/error_on_target}}
    {{/rule}}
    <label for="metric">{{_ What to watch}}</label>
    <select id="metric" name="metric">{{#metric_options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/metric_options}}</select>
    <label for="condition">{{_ Condition}}</label>
    <select id="condition" name="condition">{{#condition_options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/condition_options}}</select>
    {{#rule}}
    <label for="threshold">{{_ Threshold}}</label>
    <input id="threshold" name="threshold" inputmode="decimal" maxlength="20" value="{{threshold}}">
    {{#error_on_threshold}}<p class="field-error" id="error-threshold">{{error_message}}</p>{{/error_on_threshold}}
    <label for="hysteresis">{{_ Hysteresis}}</label>
    <input id="hysteresis" name="hysteresis" inputmode="decimal" maxlength="20" value="{{hysteresis}}">
    <label for="duration_s">{{_ For at least (s)}}</label>
    <input id="duration_s" name="duration_s" type="number" min="0" max="86400" value="{{duration_s}}">
    <label for="repeat_s">{{_ Notify again every (s, 0: never; for events: the cooldown)}}</label>
    <input id="repeat_s" name="repeat_s" type="number" min="0" value="{{repeat_s}}">
    <input type="hidden" name="enabled" value="false">
    <label><input type="checkbox" name="enabled" value="true"{{#enabled}} checked{{/enabled}}> {{_ Enabled}}</label>
    {{/rule}}
    <label for="severity">{{_ Severity}}</label>
    <select id="severity" name="severity">{{#severity_options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/severity_options}}</select>
    <label for="action">{{_ Action}}</label>
    <select id="action" name="action">{{#action_options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/action_options}}</select>
    {{#error_on_action}}<p class="field-error" id="error-action">{{error_message}}</p>{{/error_on_action}}
    <fieldset><legend>{{_ Channels}}</legend>
    {{#channel_options}}<label><input type="checkbox" name="channel_ids" value="{{id}}"{{#checked}} checked{{/checked}}> {{name}} ({{type}})</label>{{/channel_options}}
    </fieldset>
    <button type="submit" class="primary">{{_ Save}}</button>
  </form>
</section>
{{#rule}}<form method="post" action="/alert-rules/{{id}}/delete" id="delete-rule">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <button class="danger">{{_ Delete this rule}}</button>
</form>{{/rule}}
