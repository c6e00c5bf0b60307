{{%AUTOESCAPE context="HTML"}}<!DOCTYPE html>
<html lang="{{lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} · VMManager</title>
<link rel="stylesheet" href="/static/css/app.css">
<script src="/static/js/live.js" defer></script>
<script src="/static/js/ui.js" defer></script>
</head>
<body data-generation="{{generation}}">
<a class="skip" href="#main">{{_ Skip to content}}</a>
<header class="topbar">
  <a class="brand" href="/">VMManager</a>
  {{#logged_in}}
  <button type="button" class="nav-toggle" id="nav-toggle" aria-controls="nav" aria-expanded="false" hidden>{{_ Menu}}</button>
  <nav class="nav" id="nav" aria-label="{{_ Main}}">
    {{#nav}}<a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a>
    {{/nav}}
  </nav>
  {{/logged_in}}
  <div class="topbar-end">
    <form class="inline" method="post" action="/language">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <input type="hidden" name="next" value="{{path}}">
      {{#lang_zh}}<button class="link" name="language" value="en" lang="en">English</button>{{/lang_zh}}
      {{#lang_en}}<button class="link" name="language" value="zh-CN" lang="zh-CN">中文</button>{{/lang_en}}
    </form>
    {{#logged_in}}
    <a class="me" id="me" href="/profile">{{me_name}}</a>
    <form class="inline" method="post" action="/logout">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <button class="link" id="logout">{{_ Log out}}</button>
    </form>
    {{/logged_in}}
  </div>
</header>
<main class="content" id="main">
{{#has_error}}<p class="alert alert-error" role="alert" id="error">{{error_message}}</p>{{/has_error}}
{{#has_flash}}<p class="alert alert-ok" role="status" id="flash">{{flash}}</p>{{/has_flash}}
{{>PAGE}}
</main>
<footer class="footer">VMManager{{#has_error}} · {{_ Request}} {{request_id}}{{/has_error}}</footer>
</body>
</html>
