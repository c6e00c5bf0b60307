{{%AUTOESCAPE context="HTML"}}<h1>{{_ Tasks}}</h1>
<form method="get" action="/jobs" class="toolbar" id="job-filters">
  <label>{{_ State}}
    <select name="state" id="filter-state">
      <option value="">{{_ Any state}}</option>
      {{#filters}}{{#states}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/states}}{{/filters}}
    </select>
  </label>
  <label>{{_ Kind}}
    <select name="kind" id="filter-kind">
      <option value="">{{_ Any kind}}</option>
      {{#filters}}{{#kinds}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/kinds}}{{/filters}}
    </select>
  </label>
  {{#is_admin}}<label>{{_ Whose}}
    <select name="mine" id="filter-mine">
      <option value="false">{{_ Everyone's}}</option>
      <option value="true"{{#mine}} selected{{/mine}}>{{_ Mine}}</option>
    </select>
  </label>{{/is_admin}}
  <button type="submit">{{_ Filter}}</button>
</form>
<div id="jobs-live" data-live>
<table class="table reflow" id="jobs">
  <thead><tr>
    <th>{{_ Task}}</th><th>{{_ Target}}</th><th>{{_ Started by}}</th><th>{{_ When}}</th>
    <th>{{_ Duration}}</th><th>{{_ State}}</th><th>{{_ Progress}}</th><th>{{_ Message}}</th>
  </tr></thead>
  <tbody>
  {{#jobs}}
    <tr class="job job-{{state}}" data-id="{{id}}" data-state="{{state}}">
      <td data-label="{{_ Task}}"><a href="/jobs/{{id}}">{{kind_label}}</a></td>
      <td data-label="{{_ Target}}">{{#target}}{{#linked}}<a href="{{href}}">{{name}}</a>{{/linked}}{{#not_linked}}{{name}}{{/not_linked}}{{/target}}</td>
      <td data-label="{{_ Started by}}">{{owner_name}}</td>
      <td data-label="{{_ When}}"><time datetime="{{created_at}}">{{created_at}}</time></td>
      <td data-label="{{_ Duration}}">{{duration}}</td>
      <td data-label="{{_ State}}"><span class="state state-{{state}}">{{#state_is_queued}}{{_ Queued}}{{/state_is_queued}}{{#state_is_running}}{{_ Running}}{{/state_is_running}}{{#state_is_succeeded}}{{_ Done}}{{/state_is_succeeded}}{{#state_is_failed}}{{_ Failed}}{{/state_is_failed}}{{#state_is_cancelled}}{{_ Cancelled}}{{/state_is_cancelled}}</span></td>
      <td data-label="{{_ Progress}}"><progress max="100" value="{{progress}}" aria-label="{{_ Progress}}">{{progress}}%</progress></td>
      <td data-label="{{_ Message}}" class="job-message">{{message_text}}</td>
    </tr>
  {{/jobs}}
  {{#jobs_empty}}<tr><td colspan="8" id="jobs-empty">{{#filtered}}{{_ No task matches these filters.}}{{/filtered}}{{#not_filtered}}{{_ No tasks yet: long work such as a full clone or an import shows here.}}{{/not_filtered}}</td></tr>{{/jobs_empty}}
  </tbody>
</table>
{{#meta}}<p class="muted">{{_ Total}}: <span id="jobs-total">{{total}}</span></p>{{/meta}}
</div>
{{#paging}}<p class="pager">{{#has_prev}}<a href="{{prev}}" rel="prev">{{_ Newer}}</a>{{/has_prev}} {{#has_next}}<a href="{{next}}" rel="next">{{_ Older}}</a>{{/has_next}}</p>{{/paging}}
