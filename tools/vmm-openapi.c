/* vmm-openapi: the OpenAPI 3.1 description of the JSON API, made at build
 * time from the programs' own route tables, and the route reference of
 * the docs made from that description.
 *
 *   vmm-openapi --json api/openapi.json --markdown api/api-reference.md \
 *       cgi-bin/vmm-auth cgi-bin/vmm-vms ...
 *
 * Each program lists its routes (VMM_LIST_ROUTES=1, lib/web/app.c: method,
 * pattern, role, reply, statuses, the body's JSON Schema); the guide's
 * path aliases come from lib/web/compat.c. Nothing here names a route: a
 * route added to a program's table is described by the next build. */
#include <glib.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

/* What each status means, for the responses every operation shares. */
static const struct {
    int status;
    const char *text;
} status_texts[] = {
    { 200, "Done: data is the object." },
    { 201, "Created: data is the new object; meta.job names the work that goes on, if any." },
    { 202, "Accepted: a job does the work; meta.job is it (poll GET /jobs/{id})." },
    { 204, "Done, nothing to say." },
    { 400, "Invalid input: a field unknown, of the wrong type or out of range (error.field names it)." },
    { 401, "Not logged in (no session cookie, no valid bearer token)." },
    { 403, "Not allowed: the role is not enough, or a cookie-authenticated write lacks its X-CSRF-Token." },
    { 404, "Unknown, or not the caller's to see." },
    { 405, "The path exists with other methods." },
    { 406, "The client does not accept what this route sends." },
    { 409, "Conflict: the name is taken, the state forbids it, or it is in use." },
    { 410, "Gone: it expired or was ended." },
    { 412, "A precondition of the protocol does not hold (tus: Tus-Resumable)." },
    { 411, "The length of the body must be given (Content-Length)." },
    { 413, "The request body is too large." },
    { 415, "The body is not of a type this route reads (JSON routes: application/json)." },
    { 422, "Valid input that cannot be done (error.code says why)." },
    { 423, "Locked: another request is writing it (tus: one PATCH at a time)." },
    { 429, "Too many attempts: wait and try again." },
    { 460, "The checksum of the chunk does not match (tus)." },
    { 500, "Our fault: quote the request id (X-Request-Id)." },
    { 502, "A backend answered with an error." },
    { 503, "A backend (database, helper, libvirtd) is down or busy: try again." },
    { 504, "A backend did not answer in time." },
};

static const char *status_text(int status)
{
    for (size_t i = 0; i < G_N_ELEMENTS(status_texts); i++)
        if (status_texts[i].status == status)
            return status_texts[i].text;
    return NULL;
}

/* A route's status this file has no words for: the build fails, naming it. */
static bool unknown_status;

static const char *role_text(const char *perm)
{
    return !strcmp(perm, "admin") ? "administrators"
           : !strcmp(perm, "user") ? "any logged-in user"
                                   : "anyone, logged in or not";
}

/* ---------------------------------------------------------- reading --- */

/* The routes program lists, each with its program's tag added. */
static int read_program(const char *program, json_t *routes)
{
    gchar *out = NULL, *err = NULL;
    gint wait = 0;
    GError *error = NULL;
    gchar *argv[] = { (gchar *)program, NULL };
    gchar **envp = g_environ_setenv(g_get_environ(), "VMM_LIST_ROUTES", "1", TRUE);
    gboolean ok = g_spawn_sync(NULL, argv, envp, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &wait,
                               &error);
    g_strfreev(envp);
    if (!ok || !g_spawn_check_wait_status(wait, NULL)) {
        fprintf(stderr, "vmm-openapi: %s: %s%s\n", program, error ? error->message : "failed: ",
                err ? err : "");
        g_clear_error(&error);
        g_free(out);
        g_free(err);
        return -1;
    }
    gchar *base = g_path_get_basename(program);
    const char *tag = g_str_has_prefix(base, "vmm-") ? base + 4 : base;
    int rc = 0;
    gchar **lines = g_strsplit(out, "\n", -1);
    for (gchar **line = lines; *line && rc == 0; line++) {
        if (!**line)
            continue;
        json_error_t jerr;
        json_t *route = json_loads(*line, 0, &jerr);
        if (!json_is_object(route)) {
            fprintf(stderr, "vmm-openapi: %s: a listing line is not JSON: %s\n", program, jerr.text);
            json_decref(route);
            rc = -1;
            break;
        }
        json_object_set_new(route, "tag", json_string(tag));
        json_array_append_new(routes, route);
    }
    g_strfreev(lines);
    g_free(base);
    g_free(out);
    g_free(err);
    return rc;
}

static const char *str(json_t *object, const char *key)
{
    const char *value = json_string_value(json_object_get(object, key));
    return value ? value : "";
}

/* ------------------------------------------------------- describing --- */

/* "/vms/{id:int}/disks/{target}" → "/vms/{id}/disks/{target}". */
static char *openapi_path(const char *pattern)
{
    GRegex *re = g_regex_new("\\{([a-z_]+):int\\}", 0, 0, NULL);
    char *path = g_regex_replace(re, pattern, -1, 0, "{\\1}", 0, NULL);
    g_regex_unref(re);
    return path;
}

/* The path parameters of pattern, as OpenAPI parameters. */
static json_t *path_parameters(const char *pattern)
{
    json_t *params = json_array();
    gchar **segments = g_strsplit(pattern, "/", -1);
    for (gchar **s = segments; *s; s++) {
        size_t len = strlen(*s);
        if (len < 3 || (*s)[0] != '{' || (*s)[len - 1] != '}')
            continue;
        char *colon = strchr(*s, ':');
        gchar *name = g_strndup(*s + 1, colon ? (gsize)(colon - *s - 1) : len - 2);
        json_t *schema = colon ? json_pack("{s:s, s:i}", "type", "integer", "minimum", 1)
                               : json_pack("{s:s, s:i}", "type", "string", "minLength", 1);
        json_array_append_new(params, json_pack("{s:s, s:s, s:b, s:o}", "name", name, "in", "path",
                                                "required", 1, "schema", schema));
        g_free(name);
    }
    g_strfreev(segments);
    return params;
}

/* The paging, search and order every list takes (lib/web/list.c). */
static void add_list_parameters(json_t *params)
{
    json_array_append_new(params, json_pack("{s:s, s:s, s:s, s:{s:s, s:i}}", "name", "page", "in",
                                            "query", "description", "Page number, from 1.",
                                            "schema", "type", "integer", "minimum", 1));
    json_array_append_new(params,
                          json_pack("{s:s, s:s, s:s, s:{s:s, s:i, s:i, s:i}}", "name", "per_page",
                                    "in", "query", "description", "Items a page (default 50).",
                                    "schema", "type", "integer", "minimum", 1, "maximum", 500,
                                    "default", 50));
    json_array_append_new(params, json_pack("{s:s, s:s, s:s, s:{s:s}}", "name", "q", "in", "query",
                                            "description", "Text search.", "schema", "type",
                                            "string"));
    json_array_append_new(params,
                          json_pack("{s:s, s:s, s:s, s:{s:s}}", "name", "sort", "in", "query",
                                    "description", "A field to order by, -field for descending.",
                                    "schema", "type", "string"));
}

static char *operation_id(const char *method, const char *pattern, const char *suffix)
{
    GString *id = g_string_new(NULL);
    for (const char *m = method; *m; m++)
        g_string_append_c(id, g_ascii_tolower(*m));
    bool upper = true;
    for (const char *p = pattern; *p; p++) {
        if (*p == ':') {
            while (*p && *p != '}')   /* ":int}" */
                p++;
            upper = true;
            if (!*p)
                break;
        } else if (g_ascii_isalnum(*p)) {
            g_string_append_c(id, upper ? g_ascii_toupper(*p) : *p);
            upper = false;
        } else {
            upper = true;
        }
    }
    g_string_append(id, suffix);
    return g_string_free(id, FALSE);
}

static json_t *ref(const char *where)
{
    return json_pack("{s:s}", "$ref", where);
}

static void add_status(json_t *responses, int status, const char *reply)
{
    if (!status_text(status)) {
        fprintf(stderr, "vmm-openapi: status %d has no entry in status_texts\n", status);
        unknown_status = true;
        return;
    }
    char key[8];
    snprintf(key, sizeof key, "%d", status);
    if (json_object_get(responses, key))
        return;
    char where[64];
    if (status >= 400)
        snprintf(where, sizeof where, "#/components/responses/Error%d", status);
    else if (status == 204)
        snprintf(where, sizeof where, "#/components/responses/Empty");
    else if (!strcmp(reply, "raw"))
        snprintf(where, sizeof where, "#/components/responses/Raw");
    else if (!strcmp(reply, "list") && status == 200)
        snprintf(where, sizeof where, "#/components/responses/List");
    else if (!strcmp(reply, "items") && status == 200)
        snprintf(where, sizeof where, "#/components/responses/Items");
    else if (status == 202)
        snprintf(where, sizeof where, "#/components/responses/Job");
    else if (status == 201)
        snprintf(where, sizeof where, "#/components/responses/Created");
    else
        snprintf(where, sizeof where, "#/components/responses/Object");
    json_object_set_new(responses, key, ref(where));
}

static int reply_status(const char *reply)
{
    return !strcmp(reply, "created") ? 201 : !strcmp(reply, "job") ? 202
           : !strcmp(reply, "empty") ? 204 : 200;
}

/* The statuses lib/ answers for any route like this one, and the route's own. */
static json_t *responses_for(json_t *route, bool mutating, bool has_id)
{
    const char *reply = str(route, "reply");
    const char *perm = str(route, "perm");
    json_t *responses = json_object();
    add_status(responses, reply_status(reply), reply);
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(route, "statuses"), i, s)
        add_status(responses, (int)json_integer_value(s), reply);
    if (mutating || !strcmp(reply, "list"))
        add_status(responses, 400, reply);
    if (strcmp(perm, "anon") != 0)
        add_status(responses, 401, reply);
    if (!strcmp(perm, "admin") || (mutating && strcmp(perm, "anon") != 0))
        add_status(responses, 403, reply);
    if (has_id)
        add_status(responses, 404, reply);
    if (mutating) {
        add_status(responses, 413, reply);
        add_status(responses, 415, reply);
    }
    add_status(responses, 503, reply);
    /* In order of status, as readers expect. */
    json_t *sorted = json_object();
    for (int status = 100; status < 600; status++) {
        char key[8];
        snprintf(key, sizeof key, "%d", status);
        json_t *value = json_object_get(responses, key);
        if (value)
            json_object_set(sorted, key, value);
    }
    json_decref(responses);
    return sorted;
}

static json_t *security_for(const char *perm, bool mutating)
{
    if (!strcmp(perm, "anon"))
        return json_pack("[{}, {s:[]}, {s:[]}]", "session", "bearer");
    if (mutating)
        return json_pack("[{s:[], s:[]}, {s:[]}]", "session", "csrf", "bearer");
    return json_pack("[{s:[]}, {s:[]}]", "session", "bearer");
}

static json_t *operation_for(json_t *route)
{
    const char *method = str(route, "method"), *pattern = str(route, "pattern");
    const char *perm = str(route, "perm");
    bool mutating = strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "OPTIONS");
    const char *summary = *str(route, "summary") ? str(route, "summary")
                          : *str(route, "title") ? str(route, "title") : pattern;
    char *id = operation_id(method, pattern, "");
    GString *description = g_string_new(NULL);
    g_string_append_printf(description, "Who may: %s.", role_text(perm));
    if (*str(route, "action"))
        g_string_append_printf(description, " Audited as `%s`.", str(route, "action"));
    json_t *op = json_pack("{s:s, s:s, s:[s], s:s, s:s}", "operationId", id, "summary", summary,
                           "tags", str(route, "tag"), "x-vmm-role", perm, "x-vmm-reply",
                           str(route, "reply"));
    g_free(id);
    json_t *params = path_parameters(pattern);
    if (!strcmp(str(route, "reply"), "list"))
        add_list_parameters(params);
    if (json_array_size(params))
        json_object_set_new(op, "parameters", params);
    else
        json_decref(params);
    json_t *body = json_object_get(route, "body");
    if (body) {
        bool required = json_array_size(json_object_get(body, "required")) > 0;
        json_object_set_new(op, "requestBody",
                            json_pack("{s:b, s:{s:{s:O}}}", "required", required, "content",
                                      "application/json", "schema", body));
    } else if (json_is_true(json_object_get(route, "raw_body"))) {
        json_object_set_new(op, "requestBody",
                            json_pack("{s:b, s:s, s:{s:{s:{s:s, s:s}}}}", "required", 1,
                                      "description", "The bytes themselves (not JSON).",
                                      "content", "*/*", "schema", "type", "string",
                                      "contentMediaType", "application/octet-stream"));
    }
    if (*str(route, "action"))
        json_object_set_new(op, "x-vmm-audit-action", json_string(str(route, "action")));
    json_object_set_new(op, "description", json_string(description->str));
    g_string_free(description, TRUE);
    json_object_set_new(op, "security", security_for(perm, mutating));
    json_object_set_new(op, "responses",
                        responses_for(route, mutating, strstr(pattern, "{") != NULL));
    return op;
}

/* The route an alias's target path ("/vms/x/reboot", stars made "x")
 * reaches, and which of its pattern's parameters each star is: a route
 * naming each of its words first ("/vms/{id}/interfaces" before
 * "/vms/{id}/{action}"), as the program's own router does. */
static json_t *alias_route(json_t *routes, const char *method, const char *to, GPtrArray *stars,
                           bool loose);

static json_t *alias_target(json_t *routes, const char *method, const char *to, GPtrArray *stars)
{
    json_t *exact = alias_route(routes, method, to, stars, false);
    return exact ? exact : alias_route(routes, method, to, stars, true);
}

static json_t *alias_route(json_t *routes, const char *method, const char *to, GPtrArray *stars,
                           bool loose)
{
    gchar **want = g_strsplit(to, "/", -1);
    size_t i;
    json_t *route;
    json_array_foreach(routes, i, route) {
        if (strcmp(str(route, "method"), method) || !strcmp(str(route, "kind"), "page"))
            continue;
        gchar **have = g_strsplit(str(route, "pattern"), "/", -1);
        bool ok = g_strv_length(have) == g_strv_length(want);
        g_ptr_array_set_size(stars, 0);
        for (int s = 0; ok && want[s]; s++) {
            bool param = have[s][0] == '{';
            if (!strcmp(want[s], "*"))
                ok = param, g_ptr_array_add(stars, have[s]);
            else
                ok = param ? loose && !strchr(have[s], ':') : !strcmp(have[s], want[s]);
        }
        if (ok) {
            g_strfreev(want);
            g_ptr_array_add(stars, have);   /* kept until the caller is done */
            return route;
        }
        g_strfreev(have);
    }
    g_strfreev(want);
    return NULL;
}

/* The guide's path of an alias, its stars named as the target's parameters. */
static char *alias_pattern(const char *from, GPtrArray *stars)
{
    gchar **parts = g_strsplit(from, "/", -1);
    guint n = 0;
    for (gchar **p = parts; *p; p++)
        if (!strcmp(*p, "*") && n + 1 < stars->len) {
            g_free(*p);
            *p = g_strdup(g_ptr_array_index(stars, n++));
        }
    char *pattern = g_strjoinv("/", parts);
    g_strfreev(parts);
    return pattern;
}

static int add_aliases(json_t *paths, json_t *routes)
{
    for (const struct compat_alias *a = compat_aliases(); a->method; a++) {
        GPtrArray *stars = g_ptr_array_new();
        const char *our_method = a->to_method ? a->to_method : a->method;
        json_t *target = alias_target(routes, our_method, a->to, stars);
        if (!target) {
            fprintf(stderr, "vmm-openapi: alias %s %s: no route has %s\n", a->method, a->from, a->to);
            g_ptr_array_free(stars, TRUE);
            return -1;
        }
        char *pattern = alias_pattern(a->from, stars);
        g_strfreev(g_ptr_array_index(stars, stars->len - 1));
        g_ptr_array_free(stars, TRUE);

        json_t *route = json_deep_copy(target);
        json_object_set_new(route, "pattern", json_string(pattern));
        json_t *op = operation_for(route);
        char *ours = openapi_path(a->to);
        char *theirs = openapi_path(str(target, "pattern"));
        char *id = operation_id(a->method, pattern, "GuideAlias");
        json_object_set_new(op, "operationId", json_string(id));
        json_object_set_new(op, "deprecated", json_true());
        json_object_set_new(op, "x-vmm-alias-of", json_pack("{s:s, s:s}", "method", our_method,
                                                            "path", theirs));
        char *text = g_strdup_printf(
            "The user guide's path for `%s %s` (ours: %s): the same request and answer, with "
            "`Deprecation: true` and `Link: </api/v1%s>; rel=\"successor-version\"`. %s",
            our_method, theirs, ours, ours, str(op, "description"));
        json_object_set_new(op, "description", json_string(text));
        char *method = g_ascii_strdown(a->method, -1);
        char *path = openapi_path(pattern);
        json_t *item = json_object_get(paths, path);
        if (!item)
            json_object_set_new(paths, path, item = json_object());
        json_object_set_new(item, method, op);
        g_free(path);
        g_free(method);
        g_free(text);
        g_free(id);
        g_free(theirs);
        g_free(ours);
        g_free(pattern);
        json_decref(route);
    }
    return 0;
}

/* The shapes every answer shares ({success, data, meta}) and the errors. */
static json_t *components(void)
{
    json_t *schemas = json_object();
    json_object_set_new(
        schemas, "Error",
        json_pack("{s:s, s:[s, s], s:{s:{s:b}, s:{s:s, s:[s, s], s:{s:{s:s, s:s}, s:{s:s}, "
                  "s:{s:s, s:s}}}}}",
                  "type", "object", "required", "success", "error", "properties", "success",
                  "const", 0, "error", "type", "object", "required", "code", "message",
                  "properties", "code", "type", "string", "pattern", "^[a-z0-9_]+$", "message",
                  "type", "string", "field", "type", "string", "description",
                  "The input field at fault."));
    json_object_set_new(
        schemas, "Job",
        json_pack("{s:s, s:[s, s, s], s:{s:{s:s}, s:{s:s}, s:{s:s, s:[s, s, s, s, s]}, "
                  "s:{s:s, s:i, s:i}, s:{s:[s, s]}}}",
                  "type", "object", "required", "id", "kind", "state", "properties", "id", "type",
                  "integer", "kind", "type", "string", "state", "type", "string", "enum", "queued",
                  "running", "succeeded", "failed", "cancelled", "progress", "type", "integer",
                  "minimum", 0, "maximum", 100, "message", "type", "string", "null"));
    json_object_set_new(schemas, "Paging",
                        json_pack("{s:s, s:[s, s, s], s:{s:{s:s, s:i}, s:{s:s, s:i}, "
                                  "s:{s:s, s:i}}}",
                                  "type", "object", "required", "total", "page", "per_page",
                                  "properties", "total", "type", "integer", "minimum", 0, "page",
                                  "type", "integer", "minimum", 1, "per_page", "type", "integer",
                                  "minimum", 1));
    json_object_set_new(schemas, "Object",
                        json_pack("{s:s, s:[s, s], s:{s:{s:b}, s:{s:s}, s:{s:s}}}", "type",
                                  "object", "required", "success", "data", "properties",
                                  "success", "const", 1, "data", "type", "object", "meta", "type",
                                  "object"));
    json_object_set_new(
        schemas, "List",
        json_pack("{s:s, s:[s, s, s], s:{s:{s:b}, s:{s:s}, s:{s:s}}}", "type", "object",
                  "required", "success", "data", "meta", "properties", "success", "const", 1,
                  "data", "type", "array", "meta", "$ref", "#/components/schemas/Paging"));
    json_object_set_new(schemas, "Items",
                        json_pack("{s:s, s:[s, s], s:{s:{s:b}, s:{s:s}}}", "type", "object",
                                  "required", "success", "data", "properties", "success",
                                  "const", 1, "data", "type", "array"));
    json_object_set_new(
        schemas, "JobStarted",
        json_pack("{s:s, s:[s, s, s], s:{s:{s:b}, s:{s:s}, s:{s:s, s:[s], s:{s:{s:s}}}}}", "type",
                  "object", "required", "success", "data", "meta", "properties", "success",
                  "const", 1, "data", "type", "object", "meta", "type", "object", "required",
                  "job", "properties", "job", "$ref", "#/components/schemas/Job"));

    json_t *responses = json_object();
#define ENVELOPE(name, text, schema)                                                            \
    json_object_set_new(responses, name,                                                       \
                        json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", text, "content",     \
                                  "application/json", "schema", "$ref", schema))
    ENVELOPE("Object", status_text(200), "#/components/schemas/Object");
    ENVELOPE("Created", status_text(201), "#/components/schemas/Object");
    ENVELOPE("Job", status_text(202), "#/components/schemas/JobStarted");
    ENVELOPE("List", "Done: data is the list, meta the paging.", "#/components/schemas/List");
    ENVELOPE("Items", "Done: data is the whole list.", "#/components/schemas/Items");
#undef ENVELOPE
    json_object_set_new(responses, "Empty", json_pack("{s:s}", "description", status_text(204)));
    json_object_set_new(responses, "Raw",
                        json_pack("{s:s, s:{s:{s:{s:s}}}}", "description",
                                  "Done: the body is the thing itself (a file, a picture, text).",
                                  "content", "*/*", "schema", "type", "string"));
    for (size_t i = 0; i < G_N_ELEMENTS(status_texts); i++) {
        if (status_texts[i].status < 400)
            continue;
        char name[16];
        snprintf(name, sizeof name, "Error%d", status_texts[i].status);
        json_object_set_new(responses, name,
                            json_pack("{s:s, s:{s:{s:{s:s}}}}", "description",
                                      status_texts[i].text, "content", "application/json",
                                      "schema", "$ref", "#/components/schemas/Error"));
    }
    json_t *security = json_pack(
        "{s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s}}", "session", "type",
        "apiKey", "in", "cookie", "name", "vmm_session", "description",
        "Set by POST /auth/login.", "csrf", "type", "apiKey", "in", "header", "name",
        "X-CSRF-Token", "description",
        "Cookie-authenticated writes send the csrf_token login returned.", "bearer", "type",
        "http", "scheme", "bearer", "description",
        "An API token from POST /me/tokens: Authorization: Bearer <token>, no CSRF token.");
    return json_pack("{s:o, s:o, s:o}", "schemas", schemas, "responses", responses,
                     "securitySchemes", security);
}

static json_t *describe(json_t *routes)
{
    json_t *paths = json_object();
    json_t *tags = json_array();
    size_t i;
    json_t *route;
    json_array_foreach(routes, i, route) {
        if (!strcmp(str(route, "kind"), "page"))
            continue;
        const char *tag = str(route, "tag");
        size_t t;
        json_t *seen;
        bool known = false;
        json_array_foreach(tags, t, seen)
            known = known || !strcmp(str(seen, "name"), tag);
        if (!known) {
            char *text = g_strdup_printf("Served by cgi-bin/vmm-%s.", tag);
            json_array_append_new(tags, json_pack("{s:s, s:s}", "name", tag, "description", text));
            g_free(text);
        }
        char *path = openapi_path(str(route, "pattern"));
        char *method = g_ascii_strdown(str(route, "method"), -1);
        json_t *item = json_object_get(paths, path);
        if (!item)
            json_object_set_new(paths, path, item = json_object());
        json_object_set_new(item, method, operation_for(route));
        g_free(method);
        g_free(path);
    }
    if (add_aliases(paths, routes) < 0) {
        json_decref(paths);
        json_decref(tags);
        return NULL;
    }
    /* The description itself: a static file nginx serves (tools/dev). */
    json_object_set_new(
        paths, "/openapi.json",
        json_pack("{s:{s:s, s:s, s:[s], s:s, s:s, s:[{}], s:{s:{s:s, s:{s:{s:{}}}}}}}", "get",
                  "operationId", "getOpenapiJson", "summary", "This description (OpenAPI 3.1)",
                  "tags", "openapi", "x-vmm-role", "anon", "x-vmm-reply", "raw", "security",
                  "responses", "200", "description", "The description.", "content",
                  "application/json", "schema"));
    json_array_append_new(tags, json_pack("{s:s, s:s}", "name", "openapi", "description",
                                          "This description: public, so tools can fetch it."));
    return json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:s}, s:[{s:s}], s:o, s:o, s:o}", "openapi", "3.1.0",
        "jsonSchemaDialect", "https://spec.openapis.org/oas/3.1/dialect/base", "info", "title",
        "VMManager JSON API", "version", PACKAGE_VERSION, "description",
        "Generated from the route and field tables of the FastCGI programs (tools/vmm-openapi); "
        "docs/api.md has the conventions.",
        "servers", "url", "/api/v1", "tags", tags, "paths", paths, "components", components());
}

/* ------------------------------------------------------- markdown --- */

static void md_type(GString *out, json_t *schema)
{
    json_t *type = json_object_get(schema, "type");
    json_t *choices = json_object_get(schema, "enum");
    json_t *items = json_object_get(schema, "items");
    const char *t = json_is_array(type) ? json_string_value(json_array_get(type, 0))
                                        : json_string_value(type);
    if (choices) {
        size_t i;
        json_t *c;
        json_array_foreach(choices, i, c)
            g_string_append_printf(out, "%s`%s`", i ? " \\| " : "", json_is_null(c) ? "null"
                                                                     : json_string_value(c));
    } else if (t && !strcmp(t, "array") && items) {
        g_string_append(out, "list of ");
        md_type(out, items);
    } else {
        g_string_append(out, t ? t : "any");
    }
    if (json_is_array(type) && !choices)
        g_string_append(out, " or null");
}

static void md_limits(GString *out, json_t *schema)
{
    static const char *const keys[][3] = {
        { "minimum", "min ", "" }, { "maximum", "max ", "" },
        { "minLength", "", "+ chars" }, { "maxLength", "≤ ", " chars" },
        { "minItems", "", "+ items" }, { "maxItems", "≤ ", " items" },
        { "minProperties", "", "+ members" }, { "maxProperties", "≤ ", " members" },
    };
    bool first = true;
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        json_t *v = json_object_get(schema, keys[i][0]);
        if (!json_is_integer(v))
            continue;
        g_string_append_printf(out, "%s%s%lld%s", first ? "" : ", ", keys[i][1],
                               (long long)json_integer_value(v), keys[i][2]);
        first = false;
    }
    const char *text = json_string_value(json_object_get(schema, "description"));
    if (text)
        g_string_append_printf(out, "%s%s", first ? "" : "; ", text);
}

static void md_fields(GString *out, json_t *schema, const char *prefix)
{
    json_t *required = json_object_get(schema, "required");
    const char *name;
    json_t *prop;
    json_object_foreach(json_object_get(schema, "properties"), name, prop) {
        bool req = false;
        size_t i;
        json_t *r;
        json_array_foreach(required, i, r)
            req = req || !strcmp(json_string_value(r), name);
        g_string_append_printf(out, "| `%s%s` | ", prefix, name);
        md_type(out, prop);
        g_string_append_printf(out, " | %s | ", req ? "yes" : "");
        if (json_is_true(json_object_get(prop, "deprecated")))
            g_string_append(out, "deprecated. ");
        md_limits(out, prop);
        g_string_append(out, " |\n");
        if (json_object_get(prop, "properties")) {
            char *inner = g_strdup_printf("%s%s.", prefix, name);
            md_fields(out, prop, inner);
            g_free(inner);
        }
    }
}

static void md_operation(GString *out, const char *method, const char *path, json_t *op)
{
    char *upper = g_ascii_strup(method, -1);
    g_string_append_printf(out, "### `%s %s`\n\n%s%s. %s\n\n", upper, path,
                           json_is_true(json_object_get(op, "deprecated")) ? "Deprecated: " : "",
                           str(op, "summary"), str(op, "description"));
    g_free(upper);
    json_t *body = json_object_get(json_object_get(json_object_get(json_object_get(
                                       json_object_get(op, "requestBody"), "content"),
                                       "application/json"), "schema"), "properties");
    if (body && json_object_size(body)) {
        g_string_append(out, "| field | type | required | limits |\n| --- | --- | --- | --- |\n");
        md_fields(out, json_object_get(json_object_get(json_object_get(
                                           json_object_get(op, "requestBody"), "content"),
                                           "application/json"), "schema"), "");
        g_string_append(out, "\n");
    }
    g_string_append(out, "Answers:");
    const char *status;
    json_t *resp;
    bool first = true;
    json_object_foreach(json_object_get(op, "responses"), status, resp) {
        g_string_append_printf(out, "%s %s", first ? "" : ",", status);
        first = false;
    }
    g_string_append(out, ".\n\n");
}

static char *markdown(json_t *doc)
{
    GString *out = g_string_new(
        "<!-- Generated by tools/vmm-openapi from the programs' route tables (`make` writes\n"
        "     api/api-reference.md; `make api-docs` copies it here). Do not edit: change the\n"
        "     route or field table and rebuild. The tests fail while the two differ. -->\n"
        "# JSON API route reference\n\n"
        "Every route of `/api/v1`, as `GET /api/v1/openapi.json` describes it. Conventions\n"
        "(envelope, errors, paging, jobs, authentication) are in [api.md](api.md). Each\n"
        "route says who may call it, its body fields (unknown fields are refused with 400)\n"
        "and the statuses it answers; errors are `{\"success\": false, \"error\": {\"code\",\n"
        "\"message\", \"field\"}}`.\n\n");
    json_t *paths = json_object_get(doc, "paths");
    size_t t;
    json_t *tag;
    json_array_foreach(json_object_get(doc, "tags"), t, tag) {
        g_string_append_printf(out, "## %s\n\n%s\n\n", str(tag, "name"), str(tag, "description"));
        const char *path;
        json_t *item;
        json_object_foreach(paths, path, item) {
            const char *method;
            json_t *op;
            json_object_foreach(item, method, op)
                if (!json_is_true(json_object_get(op, "deprecated")) &&
                    !strcmp(json_string_value(json_array_get(json_object_get(op, "tags"), 0)),
                            str(tag, "name")))
                    md_operation(out, method, path, op);
        }
    }
    g_string_append(out, "## Deprecated: the user guide's paths\n\n"
                         "Accepted so that scripts written against the VoidVM guide keep "
                         "working; new scripts use ours.\n\n");
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item) {
        const char *method;
        json_t *op;
        json_object_foreach(item, method, op)
            if (json_is_true(json_object_get(op, "deprecated")))
                md_operation(out, method, path, op);
    }
    return g_string_free(out, FALSE);
}

/* ------------------------------------------------------------- main --- */

static int write_file(const char *path, const char *text)
{
    GError *error = NULL;
    if (!g_file_set_contents(path, text, -1, &error)) {
        fprintf(stderr, "vmm-openapi: %s\n", error->message);
        g_error_free(error);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *json_out = NULL, *md_out = NULL;
    int i = 1;
    for (; i + 1 < argc && g_str_has_prefix(argv[i], "--"); i += 2) {
        if (!strcmp(argv[i], "--json"))
            json_out = argv[i + 1];
        else if (!strcmp(argv[i], "--markdown"))
            md_out = argv[i + 1];
        else
            break;
    }
    if (!json_out || i >= argc) {
        fprintf(stderr, "usage: vmm-openapi --json FILE [--markdown FILE] PROGRAM...\n");
        return 2;
    }
    json_t *routes = json_array();
    for (; i < argc; i++)
        if (read_program(argv[i], routes) < 0)
            return 1;
    json_t *doc = describe(routes);
    json_decref(routes);
    if (!doc || unknown_status)
        return 1;
    /* Keys in the order made (paths as the programs list them): the
     * output is the same from one build to the next. */
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    int rc = write_file(json_out, text);
    free(text);
    if (rc == 0 && md_out) {
        char *md = markdown(doc);
        rc = write_file(md_out, md);
        g_free(md);
    }
    json_decref(doc);
    return rc < 0 ? 1 : 0;
}
