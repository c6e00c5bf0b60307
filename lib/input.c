#include "input.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"

static bool has_control_chars(const char *s, bool allow_newlines)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (allow_newlines && (*p == '\n' || *p == '\r' || *p == '\t'))
            continue;
        if (*p < 0x20 || *p == 0x7f)
            return true;
    }
    return false;
}

bool input_name_char(gunichar c)
{
    switch (g_unichar_type(c)) {
    case G_UNICODE_CONTROL:
    case G_UNICODE_FORMAT:
    case G_UNICODE_UNASSIGNED:
    case G_UNICODE_PRIVATE_USE:
    case G_UNICODE_SURROGATE:
    case G_UNICODE_LINE_SEPARATOR:
    case G_UNICODE_PARAGRAPH_SEPARATOR:
        return false;
    default:
        return true;
    }
}

bool input_name_clean(const char *text)
{
    if (!text || !g_utf8_validate(text, -1, NULL))
        return false;
    for (const char *p = text; *p; p = g_utf8_next_char(p))
        if (!input_name_char(g_utf8_get_char(p)))
            return false;
    return true;
}

static const struct field *field_find(const struct field *fields, const char *name)
{
    for (const struct field *f = fields; f && f->name; f++)
        if (!strcmp(f->name, name))
            return f;
    return NULL;
}

/* Form values are text; the API's are typed. Both become typed JSON. */
static json_t *form_value_typed(const struct field *f, const char *text)
{
    if (f->type == FIELD_INT) {
        char *end;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (errno || !*text || *end)
            return NULL;
        return json_integer(v);
    }
    if (f->type == FIELD_NUMBER) {
        char *end;
        errno = 0;
        double v = strtod(text, &end);
        if (errno || !*text || *end || !isfinite(v))
            return NULL;
        return json_real(v);
    }
    if (f->type == FIELD_BOOL) {
        if (!strcmp(text, "true") || !strcmp(text, "on") || !strcmp(text, "1"))
            return json_true();
        if (!strcmp(text, "false") || !strcmp(text, "off") || !strcmp(text, "0"))
            return json_false();
        return NULL;
    }
    return json_string(text);
}

static int field_check(struct err *e, const struct field *f, json_t *value)
{
    const char *name = f->name;
    if (f->nullable && json_is_null(value))
        return 0;
    switch (f->type) {
    case FIELD_STRING:
    case FIELD_TEXT:
    case FIELD_NAME: {
        if (!json_is_string(value))
            return err_set(e, 400, "invalid_type", name, _("%s must be a string."), name);
        const char *s = json_string_value(value);
        if (strlen(s) != json_string_length(value) || has_control_chars(s, f->type == FIELD_TEXT))
            return err_set(e, 400, "invalid_characters", name,
                        _("%s contains control characters."), name);
        if (f->type == FIELD_NAME && !input_name_clean(s))
            return err_set(e, 400, "invalid_characters", name,
                           _("%s contains invisible or text-direction characters."), name);
        long long chars = g_utf8_strlen(s, -1);
        if (chars < f->min || chars > f->max)
            return err_set(e, 400, "invalid_length", name,
                        _("%s must be %lld to %lld characters long."), name, f->min, f->max);
        return 0;
    }
    case FIELD_INT: {
        if (!json_is_integer(value))
            return err_set(e, 400, "invalid_type", name, _("%s must be an integer."), name);
        long long v = json_integer_value(value);
        if (v < f->min || v > f->max)
            return err_set(e, 400, "out_of_range", name, _("%s must be between %lld and %lld."),
                        name, f->min, f->max);
        return 0;
    }
    case FIELD_NUMBER: {
        if (!json_is_number(value) || !isfinite(json_number_value(value)))
            return err_set(e, 400, "invalid_type", name, _("%s must be a number."), name);
        double v = json_number_value(value);
        if (v < (double)f->min || v > (double)f->max)
            return err_set(e, 400, "out_of_range", name, _("%s must be between %lld and %lld."),
                        name, f->min, f->max);
        return 0;
    }
    case FIELD_FREE_OBJECT: {
        long long n = json_is_object(value) ? (long long)json_object_size(value) : -1;
        if (n < 0)
            return err_set(e, 400, "invalid_type", name, _("%s must be an object."), name);
        if (n < f->min || n > f->max)
            return err_set(e, 400, "invalid_length", name, _("%s must have %lld to %lld members."),
                           name, f->min, f->max);
        return 0;
    }
    case FIELD_ARRAY: {
        long long n = json_is_array(value) ? (long long)json_array_size(value) : -1;
        if (n < 0)
            return err_set(e, 400, "invalid_type", name, _("%s must be a list."), name);
        if (n < f->min || n > f->max)
            return err_set(e, 400, "invalid_length", name, _("%s must hold %lld to %lld items."),
                           name, f->min, f->max);
        return 0;
    }
    case FIELD_BOOL:
        if (!json_is_boolean(value))
            return err_set(e, 400, "invalid_type", name, _("%s must be true or false."), name);
        return 0;
    case FIELD_ID_LIST: {
        if (!json_is_array(value))
            return err_set(e, 400, "invalid_type", name, _("%s must be a list of ids."), name);
        long long n = (long long)json_array_size(value);
        if (n < f->min || n > f->max)
            return err_set(e, 400, "invalid_length", name, _("%s must hold %lld to %lld ids."),
                           name, f->min, f->max);
        size_t i, j;
        json_t *id, *other;
        json_array_foreach(value, i, id) {
            if (!json_is_integer(id) || json_integer_value(id) < 1)
                return err_set(e, 400, "invalid_type", name, _("%s must be a list of ids."), name);
            json_array_foreach(value, j, other)
                if (j < i && json_equal(id, other))
                    return err_set(e, 400, "duplicate_id", name, _("%s lists an id twice."), name);
        }
        return 0;
    }
    case FIELD_ENUM_LIST: {
        size_t n = json_is_array(value) ? json_array_size(value) : 0;
        if (!json_is_array(value) || (long long)n < f->min || (long long)n > f->max)
            return err_set(e, 400, "invalid_length", name, _("%s must list %lld to %lld values."),
                           name, f->min, f->max);
        size_t i, j;
        json_t *item, *other;
        json_array_foreach(value, i, item) {
            bool known = false;
            for (const char *const *c = f->choices; json_is_string(item) && *c; c++)
                known = known || !strcmp(*c, json_string_value(item));
            if (!known)
                return err_set(e, 400, "invalid_choice", name,
                               _("%s is not one of the allowed values."), name);
            json_array_foreach(value, j, other)
                if (j < i && json_equal(item, other))
                    return err_set(e, 400, "duplicate_value", name, _("%s lists a value twice."),
                                   name);
        }
        return 0;
    }
    case FIELD_STRING_LIST: {
        size_t n = json_is_array(value) ? json_array_size(value) : 0;
        if (!json_is_array(value) || (long long)n < f->min || (long long)n > f->max)
            return err_set(e, 400, "invalid_length", name, _("%s must list %lld to %lld values."),
                           name, f->min, f->max);
        size_t i;
        json_t *item;
        json_array_foreach(value, i, item) {
            const char *s = json_string_value(item);
            if (!s || strlen(s) != json_string_length(item) || !*s || strlen(s) > 255 ||
                has_control_chars(s, false))
                return err_set(e, 400, "invalid_type", name,
                               _("%s must be a list of one-line strings."), name);
        }
        return 0;
    }
    case FIELD_OBJECT:
        if (!json_is_object(value))
            return err_set(e, 400, "invalid_type", name, _("%s must be an object."), name);
        return input_validate(value, f->fields, e);
    case FIELD_ENUM:
        if (json_is_string(value))
            for (const char *const *c = f->choices; *c; c++)
                if (!strcmp(*c, json_string_value(value)))
                    return 0;
        return err_set(e, 400, "invalid_choice", name, _("%s is not one of the allowed values."),
                    name);
    }
    return -1;
}

static json_t *choices_schema(const char *const *choices)
{
    json_t *list = json_array();
    for (const char *const *c = choices; c && *c; c++)
        json_array_append_new(list, json_string(*c));
    return json_pack("{s:s, s:o}", "type", "string", "enum", list);
}

/* A list of min to max items (each of items, taken over, when given). */
static json_t *list_schema(const struct field *f, json_t *items, bool unique)
{
    json_t *s = json_pack("{s:s, s:I, s:I}", "type", "array", "minItems", (json_int_t)f->min,
                          "maxItems", (json_int_t)f->max);
    if (items)
        json_object_set_new(s, "items", items);
    if (unique)
        json_object_set_new(s, "uniqueItems", json_true());
    return s;
}

/* The schema of one field's value: what field_check accepts. */
static json_t *field_schema(const struct field *f)
{
    json_t *s;
    switch (f->type) {
    case FIELD_STRING:
    case FIELD_TEXT:
    case FIELD_NAME:
        s = json_pack("{s:s, s:I, s:I}", "type", "string", "minLength", (json_int_t)f->min,
                      "maxLength", (json_int_t)f->max);
        /* Control characters are refused; a text keeps its newlines. */
        json_object_set_new(s, "pattern", json_string(f->type == FIELD_TEXT ? "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$"
                                                                          : "^[^\\x00-\\x1f\\x7f]*$"));
        if (f->type == FIELD_NAME)
            json_object_set_new(s, "description",
                                json_string("A name people see: any script, no invisible or "
                                            "text-direction characters."));
        break;
    case FIELD_INT:
        s = json_pack("{s:s, s:I, s:I}", "type", "integer", "minimum", (json_int_t)f->min,
                      "maximum", (json_int_t)f->max);
        break;
    case FIELD_NUMBER:
        s = json_pack("{s:s, s:I, s:I}", "type", "number", "minimum", (json_int_t)f->min,
                      "maximum", (json_int_t)f->max);
        break;
    case FIELD_BOOL:
        s = json_pack("{s:s}", "type", "boolean");
        break;
    case FIELD_ENUM:
        s = choices_schema(f->choices);
        break;
    case FIELD_ID_LIST:
        s = list_schema(f, json_pack("{s:s, s:i}", "type", "integer", "minimum", 1), true);
        break;
    case FIELD_ENUM_LIST:
        s = list_schema(f, choices_schema(f->choices), true);
        break;
    case FIELD_STRING_LIST:
        s = list_schema(f, json_pack("{s:s, s:i, s:i}", "type", "string", "minLength", 1,
                                     "maxLength", 255), false);
        break;
    case FIELD_OBJECT:
        s = input_schema(f->fields);
        break;
    case FIELD_FREE_OBJECT:
        s = json_pack("{s:s, s:I, s:I}", "type", "object", "minProperties", (json_int_t)f->min,
                      "maxProperties", (json_int_t)f->max);
        break;
    case FIELD_ARRAY:
    default:
        s = list_schema(f, NULL, false);
        break;
    }
    if (f->nullable) {
        /* JSON null is accepted too: {"type": [T, "null"]}, or beside the choices. */
        json_t *type = json_object_get(s, "type");
        json_object_set_new(s, "type", json_pack("[O, s]", type, "null"));
        json_t *choices = json_object_get(s, "enum");
        if (choices)
            json_array_append_new(choices, json_null());
    }
    return s;
}

json_t *input_schema(const struct field *fields)
{
    json_t *properties = json_object();
    json_t *required = json_array();
    for (const struct field *f = fields; f && f->name; f++) {
        json_object_set_new(properties, f->name, field_schema(f));
        if (f->required)
            json_array_append_new(required, json_string(f->name));
    }
    json_t *schema = json_pack("{s:s, s:o, s:b}", "type", "object", "properties", properties,
                               "additionalProperties", 0);
    if (json_array_size(required))
        json_object_set_new(schema, "required", required);
    else
        json_decref(required);
    return schema;
}

static int input_load_json(struct req *r, json_t **out)
{
    if (r->body_len == 0) {
        *out = json_object();
        return 0;
    }
    const char *type = r->content_type ? r->content_type : "";
    if (g_ascii_strncasecmp(type, "application/json", 16) != 0)
        return req_fail(r, 415, "unsupported_media_type", NULL,
                    _("Send the request body as application/json."));
    json_error_t error;
    json_t *body = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &error);
    if (!body)
        return req_fail(r, 400, "invalid_json", NULL, _("The body is not valid JSON: %s"), error.text);
    if (!json_is_object(body)) {
        json_decref(body);
        return req_fail(r, 400, "invalid_json", NULL, _("The body must be a JSON object."));
    }
    *out = body;
    return 0;
}

/* A form sends a list as the same key repeated (ids=3&ids=7, from
 * checkboxes), which a hash of parameters keeps once: the values of name
 * are read from the body itself. Whether each is an id is checked later. */
static json_t *form_list(const struct req *r, const char *name)
{
    json_t *list = json_array();
    gchar **pairs = g_strsplit(r->body, "&", -1);
    for (gchar **p = pairs; *p; p++) {
        char *eq = strchr(*p, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *key = g_uri_unescape_string(*p, NULL);
        if (key && !strcmp(key, name)) {
            char *end;
            errno = 0;
            long long v = strtoll(eq + 1, &end, 10);
            json_array_append_new(list, !errno && eq[1] && !*end ? json_integer(v)
                                                                 : json_string(eq + 1));
        }
        g_free(key);
    }
    g_strfreev(pairs);
    return list;
}

static int input_load_form(struct req *r, const struct field *fields, json_t **out)
{
    *out = json_object();
    if (r->body_len == 0)
        return 0;
    const char *type = r->content_type ? r->content_type : "";
    if (g_ascii_strncasecmp(type, "application/x-www-form-urlencoded", 33) != 0)
        return req_fail(r, 415, "unsupported_media_type", NULL, _("Unsupported form encoding."));
    GHashTable *params =
        g_uri_parse_params(r->body, (gssize)r->body_len, "&", G_URI_PARAMS_WWW_FORM, NULL);
    if (!params)
        return req_fail(r, 400, "invalid_form", NULL, _("The form data is not valid."));

    GHashTableIter it;
    gpointer key, value;
    int rc = 0;
    g_hash_table_iter_init(&it, params);
    while (rc == 0 && g_hash_table_iter_next(&it, &key, &value)) {
        if (!strcmp(key, "csrf_token"))
            continue;
        const struct field *f = field_find(fields, key);
        if (!f || !g_utf8_validate(value, -1, NULL) || f->type == FIELD_OBJECT ||
            f->type == FIELD_STRING_LIST) {
            json_object_set_new(*out, key, json_string(""));  /* reported below */
            continue;
        }
        json_t *typed = f->type == FIELD_ID_LIST ? form_list(r, f->name) : form_value_typed(f, value);
        if (!typed)
            rc = req_fail(r, 400, "invalid_type", f->name, _("%s is not valid."), f->name);
        else
            json_object_set_new(*out, key, typed);
    }
    g_hash_table_unref(params);
    return rc;
}

int input_parse(struct req *r, const struct field *fields)
{
    json_t *in = NULL;
    if (r->body_has_nul)
        return req_fail(r, 400, "bad_body", NULL, _("The request body contains a NUL byte."));
    int rc = r->api ? input_load_json(r, &in) : input_load_form(r, fields, &in);
    if (rc < 0) {
        json_decref(in);
        return -1;
    }

    if (input_validate(in, fields, &r->err) < 0) {
        json_decref(in);
        return -1;
    }
    r->input = in;
    return 0;
}

int input_validate(json_t *object, const struct field *fields, struct err *e)
{
    const char *key;
    json_t *value;
    if (!json_is_object(object))
        return err_set(e, 400, "invalid_json", NULL, _("The body must be a JSON object."));
    json_object_foreach(object, key, value) {
        const struct field *f = field_find(fields, key);
        if (!f)
            return err_set(e, 400, "unknown_field", key, _("Unknown field: %s"), key);
        if (field_check(e, f, value) < 0)
            return -1;
    }
    for (const struct field *f = fields; f && f->name; f++)
        if (f->required && !json_object_get(object, f->name))
            return err_set(e, 400, "missing_field", f->name, _("%s is required."), f->name);
    return 0;
}

const char *input_str(const struct req *r, const char *name)
{
    return json_string_value(json_object_get(r->input, name));
}

long long input_int(const struct req *r, const char *name, long long fallback)
{
    json_t *v = json_object_get(r->input, name);
    return json_is_integer(v) ? json_integer_value(v) : fallback;
}

bool input_has(const struct req *r, const char *name)
{
    return json_object_get(r->input, name) != NULL;
}
