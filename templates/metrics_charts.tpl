{{%AUTOESCAPE context="HTML"}}<section class="card metrics" id="metrics" hidden
  data-label-cpu="{{_ CPU (%)}}" data-label-memory="{{_ Memory used (MiB)}}"
  data-label-disk="{{_ Disk (bytes/s)}}" data-label-net="{{_ Network (bytes/s)}}"
  data-label-read="{{_ read}}" data-label-write="{{_ write}}"
  data-label-rx="{{_ received}}" data-label-tx="{{_ sent}}"
  data-label-avg="{{_ Average}}" data-label-peak="{{_ Peak}}" data-label-p95="{{_ 95th percentile}}">
  <h2>{{_ Performance}}</h2>
  <div class="metrics-ranges" role="group" aria-label="{{_ Time range}}">
    <button type="button" class="link active" data-range="1h">{{_ 1 hour}}</button>
    <button type="button" class="link" data-range="24h">{{_ 24 hours}}</button>
    <button type="button" class="link" data-range="7d">{{_ 7 days}}</button>
    <button type="button" class="link" data-range="30d">{{_ 30 days}}</button>
    <span class="metrics-live" id="metrics-live">{{_ live}}</span>
  </div>
  <div class="metrics-charts" id="metrics-charts"></div>
  <table class="table metrics-report" id="metrics-report" hidden>
    <thead><tr><th></th><th>{{_ Average}}</th><th>{{_ Peak}}</th><th>{{_ 95th percentile}}</th></tr></thead>
    <tbody></tbody>
  </table>
</section>
<link rel="stylesheet" href="/static/vendor/uPlot.min.css">
<script src="/static/vendor/uPlot.iife.min.js"></script>
<script src="/static/js/metrics.js"></script>
