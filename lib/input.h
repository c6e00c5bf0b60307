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
    FIELD_INT,      /* min/max are the value range */
    FIELD_BOOL,
    FIELD_ENUM,     /* one of choices */
    FIELD_ID_LIST,  /* a JSON array of distinct positive integers; min/max is its length */
    FIELD_ENUM_LIST,/* a JSON array of distinct choices; min/max is its length */
    FIELD_NUMBER,   /* an integer or a decimal, finite; min/max are the value range */
    FIELD_OBJECT,   /* a JSON object (API only), checked by the handler with
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
};

/* Parses r->body (JSON for the API, urlencoded for forms) and validates it
 * against fields (terminated by a {NULL} entry; NULL accepts no fields).
 * Unknown fields, wrong types and out-of-range values fail with 400/415
 * naming the field. A form's csrf_token is checked by lib/app.c, not here. */
int input_parse(struct req *r, const struct field *fields);

/* Validates a JSON object against fields (the checks input_parse makes),
 * also for inputs that do not come over HTTP (the helper's requests). */
int input_validate(json_t *object, const struct field *fields, struct err *err);

/* Accessors for validated input (NULL / fallback when absent). */
const char *input_str(const struct req *r, const char *name);
long long input_int(const struct req *r, const char *name, long long fallback);
bool input_has(const struct req *r, const char *name);

#endif
