/* Request bodies, validated against a table of accepted fields before any
 * handler sees them. JSON bodies (API) and form bodies (pages) end up as
 * the same typed JSON object in r->input; a handler never parses text. */
#ifndef VMM_INPUT_H
#define VMM_INPUT_H

#include <stdbool.h>

#include "http.h"

enum field_type {
    FIELD_STRING,   /* one line: no control characters; min/max in characters */
    FIELD_TEXT,     /* like STRING, but newlines and tabs allowed */
    FIELD_NAME,     /* like STRING, and input_name_clean(): for names people see */
    FIELD_INT,      /* min/max are the value range */
    FIELD_BOOL,
    FIELD_ENUM,     /* one of choices */
    FIELD_ID_LIST,  /* a JSON array of distinct positive integers; min/max is its length */
    FIELD_ENUM_LIST,/* a JSON array of distinct choices; min/max is its length */
    FIELD_STRING_LIST,/* a JSON array of one-line strings of 1-255 characters; min/max is its length */
    FIELD_OBJECT,   /* a JSON object validated against fields (API bodies only) */
    FIELD_NUMBER,   /* an integer or a decimal, finite; min/max are the value range */
    FIELD_FREE_OBJECT,/* a JSON object (API only), checked by the handler with
                     * input_validate against its own table; min/max members */
    FIELD_ARRAY,    /* a JSON array (API only), its items checked by the handler;
                     * min/max is its length */
};

struct field {
    const char *name;
    enum field_type type;
    bool required;
    long long min;
    long long max;
    const char *const *choices;   /* NULL-terminated, for FIELD_ENUM */
    bool nullable;                /* JSON null is accepted too ("take it out": an ISO ejected) */
    const struct field *fields;   /* {NULL}-terminated, for FIELD_OBJECT */
};

/* Parses r->body (JSON for the API, urlencoded for forms) and validates it
 * against fields (terminated by a {NULL} entry; NULL accepts no fields).
 * Unknown fields, wrong types and out-of-range values fail with 400/415
 * naming the field. A form's csrf_token is checked by lib/web/app.c, not here. */
int input_parse(struct req *r, const struct field *fields);

/* Validates a JSON object against fields (the checks input_parse makes),
 * also for inputs that do not come over HTTP (the helper's requests). */
int input_validate(json_t *object, const struct field *fields, struct err *err);

/* The JSON Schema (2020-12, as OpenAPI 3.1 uses it) of a body fields
 * accepts: the same types, ranges, choices and required members that
 * input_validate checks, unknown members refused. Newly allocated. */
json_t *input_schema(const struct field *fields);

/* The one rule for names shown to other people (user, display, VM,
 * template, ISO, token and file names): no control characters (C0, DEL,
 * C1), no format characters (Unicode Cf: the bidi controls U+202A-U+202E,
 * U+2066-U+2069, U+200E/U+200F, U+061C, zero-width U+200B-U+200D, U+2060,
 * U+FEFF, the soft hyphen U+00AD ...), no line or paragraph separators,
 * nothing unassigned or private-use, no invalid UTF-8. A name can look
 * like another or reorder what follows it only through these. Any
 * script is welcome: "测试服务器" is a name. */
bool input_name_clean(const char *text);
/* The same rule for one character. */
bool input_name_char(gunichar c);

/* Accessors for validated input (NULL / fallback when absent). */
const char *input_str(const struct req *r, const char *name);
long long input_int(const struct req *r, const char *name, long long fallback);
bool input_has(const struct req *r, const char *name);

#endif
