#include "http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "user.h"

static void req_clear(struct req *r, GPtrArray *headers, GString *body)
{
    memset(r, 0, sizeof *r);
    r->content_length = -1;
    r->query = "";
    r->method = "GET";
    r->status = 200;
    r->lang = "en";
    r->resp_headers = headers;
    r->resp_body = body;
    r->resp_type = "text/html; charset=utf-8";
}

void req_init(struct req *r)
{
    req_clear(r, g_ptr_array_new_with_free_func(g_free), g_string_sized_new(8192));
}

void req_reset(struct req *r)
{
    GPtrArray *headers = r->resp_headers;
    GString *body = r->resp_body;

    g_free(r->path);
    g_free(r->body);
    g_free(r->location);
    g_free(r->alias_path);
    json_decref(r->compat_names);
    g_free(r->session_token);
    json_decref(r->query_params);
    json_decref(r->input);
    json_decref(r->data);
    json_decref(r->meta);
    json_decref(r->page_extra);
    json_decref(r->job);
    json_decref(r->audit_detail);
    json_decref(r->audit_changes);
    for (int i = 0; i < r->nparams; i++)
        g_free(r->params[i].text);
    user_free(r->user);

    g_ptr_array_set_size(headers, 0);
    g_string_truncate(body, 0);
    req_clear(r, headers, body);
}

__attribute__((format(printf, 5, 0)))
static int err_vset(struct err *e, int status, const char *code, const char *field,
                    const char *fmt, va_list ap)
{
    /* The first error wins: it is the cause, later ones are consequences. */
    if (e->status)
        return -1;
    e->status = status;
    snprintf(e->code, sizeof e->code, "%s", code);
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    return -1;
}

int err_set(struct err *e, int status, const char *code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, status, code, field, fmt, ap);
    va_end(ap);
    return -1;
}

int req_fail(struct req *r, int status, const char *code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(&r->err, status, code, field, fmt, ap);
    va_end(ap);
    return -1;
}

static bool has_control_chars(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

/* Digits only, no sign, no spaces, at most 18 of them: never overflows. */
static int parse_content_length(const char *text, long long *out)
{
    size_t n = strlen(text);
    if (n == 0 || n > 18)
        return -1;
    long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return 0;
}

static int req_set_path(struct req *r, const char *uri)
{
    const char *qmark = strchr(uri, '?');
    size_t len = qmark ? (size_t)(qmark - uri) : strlen(uri);
    if (len == 0 || uri[0] != '/' || len > HTTP_MAX_PATH_BYTES)
        return req_fail(r, 400, "bad_path", NULL, "The request path is not valid.");

    char *raw = g_strndup(uri, len);
    /* NULL for a bad escape or an escaped NUL. */
    r->path = g_uri_unescape_segment(raw, NULL, NULL);
    g_free(raw);
    if (!r->path || has_control_chars(r->path) || !g_utf8_validate(r->path, -1, NULL))
        return req_fail(r, 400, "bad_path", NULL, "The request path is not valid.");
    if (qmark)
        r->query = qmark + 1;

    static const char api_prefix[] = "/api/v1";
    size_t plen = sizeof api_prefix - 1;
    r->api = !strncmp(r->path, "/api/", 5) || !strcmp(r->path, "/api");
    if (!strncmp(r->path, api_prefix, plen) && (r->path[plen] == '/' || !r->path[plen]))
        r->route_path = r->path[plen] ? r->path + plen : "/";
    else
        r->route_path = r->path;
    return 0;
}

static int req_parse_query(struct req *r)
{
    GError *error = NULL;
    r->query_params = json_object();
    if (!*r->query)
        return 0;
    GHashTable *params = g_uri_parse_params(r->query, -1, "&", G_URI_PARAMS_WWW_FORM, &error);
    if (!params) {
        g_error_free(error);
        return req_fail(r, 400, "bad_query", NULL, "The query string is not valid.");
    }
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, params);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        if (!g_utf8_validate(key, -1, NULL) || !g_utf8_validate(value, -1, NULL) ||
            has_control_chars(value)) {
            g_hash_table_unref(params);
            return req_fail(r, 400, "bad_query", NULL, "The query string is not valid.");
        }
        /* "?state=" from a form's "any" choice means no filter at all. */
        if (*(const char *)value)
            json_object_set_new(r->query_params, key, json_string(value));
    }
    g_hash_table_unref(params);
    return 0;
}

int req_parse_env(struct req *r, char **envp)
{
    const char *uri = NULL;
    bool header_too_large = false;

    r->envp = envp;
    for (char **e = envp; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        size_t nlen = (size_t)(eq - *e);
        const char *value = eq + 1;
#define IS(name) (nlen == sizeof(name) - 1 && !memcmp(*e, name, nlen))
        if (!strncmp(*e, "HTTP_", 5) && strlen(value) > HTTP_MAX_HEADER_BYTES)
            header_too_large = true;
        if (IS("REQUEST_METHOD"))
            r->method = value;
        else if (IS("REQUEST_URI"))
            uri = value;
        else if (IS("CONTENT_TYPE"))
            r->content_type = value;
        else if (IS("CONTENT_LENGTH")) {
            if (*value && parse_content_length(value, &r->content_length) < 0)
                return req_fail(r, 400, "bad_content_length", NULL, "Content-Length is not valid.");
        } else if (IS("REMOTE_ADDR"))
            r->remote_addr = value;
        else if (IS("HTTP_USER_AGENT"))
            r->user_agent = value;
        else if (IS("HTTP_ACCEPT_LANGUAGE"))
            r->accept_language = value;
        else if (IS("HTTP_COOKIE"))
            r->cookie_header = value;
        else if (IS("HTTP_AUTHORIZATION"))
            r->authorization = value;
        else if (IS("HTTP_X_CSRF_TOKEN"))
            r->csrf_header = value;
        else if (IS("HTTP_IF_NONE_MATCH"))
            r->if_none_match = value;
        else if (IS("HTTP_X_VMM_BACKGROUND"))
            r->background = !strcmp(value, "1");
        else if (IS("VMM_BODY_STREAM"))
            r->body_stream = !strcmp(value, "1");
        else if (IS("HTTPS"))
            r->https = !strcmp(value, "on");
        else if (IS("REQUEST_ID") && strspn(value, "0123456789abcdefABCDEF-") == strlen(value))
            snprintf(r->request_id, sizeof r->request_id, "%s", value);
#undef IS
    }
    if (!r->request_id[0]) {
        guint32 a = g_random_int(), b = g_random_int();
        snprintf(r->request_id, sizeof r->request_id, "%08x%08x", a, b);
    }
    if (!uri)
        return req_fail(r, 400, "bad_path", NULL, "The request path is not valid.");
    /* The path first, so the refusal below answers in JSON under /api. */
    if (req_set_path(r, uri) < 0)
        return -1;
    if (header_too_large)
        return req_fail(r, 431, "header_too_large", NULL, "A request header is too large.");
    return req_parse_query(r);
}

int req_set_body(struct req *r, char *body, size_t len)
{
    r->body = body;
    r->body_len = len;
    /* Refused by lib/web/app.c unless the route takes a raw body (an image). */
    r->body_has_nul = memchr(body, '\0', len) != NULL;
    return 0;
}

char *req_cookie(const struct req *r, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = r->cookie_header;

    while (p && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nlen && !strncmp(p, name, nlen) && p[nlen] == '=')
            return g_strndup(p + nlen + 1, len - nlen - 1);
        p = end;
    }
    return NULL;
}

const char *req_env(const struct req *r, const char *name)
{
    size_t n = strlen(name);
    for (char **e = r->envp; e && *e; e++)
        if (!strncmp(*e, name, n) && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

const char *req_query(const struct req *r, const char *name)
{
    return json_string_value(json_object_get(r->query_params, name));
}

const struct route_param *req_param(const struct req *r, const char *name)
{
    for (int i = 0; i < r->nparams; i++)
        if (!strcmp(r->params[i].name, name))
            return &r->params[i];
    return NULL;
}

static bool header_text_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return false;
    return true;
}

int resp_header(struct req *r, const char *name, const char *value)
{
    if (!*name || strpbrk(name, ": \t") || !header_text_ok(name) || !header_text_ok(value))
        return -1;
    g_ptr_array_add(r->resp_headers, g_strdup_printf("%s: %s", name, value));
    return 0;
}

int resp_cookie(struct req *r, const char *name, const char *value, long max_age)
{
    if (strpbrk(value, ";, \"\\"))
        return -1;
    char *cookie = g_strdup_printf("%s=%s; Path=/; Max-Age=%ld; HttpOnly; SameSite=Strict%s",
                                   name, value, max_age, r->https ? "; Secure" : "");
    int rc = resp_header(r, "Set-Cookie", cookie);
    g_free(cookie);
    return rc;
}

static const char *status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 423: return "Locked";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 460: return "Checksum Mismatch";
    case 503: return "Service Unavailable";
    case 507: return "Insufficient Storage";
    default: return status >= 500 ? "Internal Server Error" : "Error";
    }
}

void resp_serialize(struct req *r, GString *out)
{
    /* A 204 or 304 has no body, so no type and no length either. */
    bool no_content = r->status == 204 || r->status == 304;
    if (no_content)
        g_string_truncate(r->resp_body, 0);
    g_string_append_printf(out, "Status: %d %s\r\n", r->status, status_text(r->status));
    if (!no_content) {
        g_string_append_printf(out, "Content-Type: %s\r\n", r->resp_type);
        g_string_append_printf(out, "Content-Length: %zu\r\n", r->resp_body->len);
    }
    /* Pages load scripts and styles only from us, and no one may frame us. */
    g_string_append(out,
                    "Content-Security-Policy: default-src 'self'; img-src 'self' data:; "
                    "object-src 'none'; base-uri 'none'; form-action 'self'; "
                    "frame-ancestors 'none'\r\n"
                    "X-Content-Type-Options: nosniff\r\n"
                    "X-Frame-Options: DENY\r\n"
                    "Referrer-Policy: same-origin\r\n"
                    "Cache-Control: no-store\r\n");
    g_string_append_printf(out, "X-Request-Id: %s\r\n", r->request_id);
    for (guint i = 0; i < r->resp_headers->len; i++)
        g_string_append_printf(out, "%s\r\n", (const char *)g_ptr_array_index(r->resp_headers, i));
    g_string_append(out, "\r\n");
    g_string_append_len(out, r->resp_body->str, (gssize)r->resp_body->len);
}
