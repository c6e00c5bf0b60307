/* One HTTP request as FastCGI hands it to us, and the response we build.
 * Everything request-shaped lives in struct req and is reset per request:
 * a FastCGI worker serves many requests and must carry nothing over. */
#ifndef VMM_HTTP_H
#define VMM_HTTP_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define HTTP_MAX_HEADER_BYTES 8192   /* one header value */
#define HTTP_MAX_PATH_BYTES 2048
#define HTTP_MAX_PARAMS 4

struct user;

/* A failure to report: HTTP status, snake_case code, message, field. */
struct err {
    int status;
    char code[48];
    char field[48];
    char message[256];
};

struct route_param {
    const char *name;
    long long num;        /* for {name:int} */
    char *text;           /* the decoded segment */
};

struct req {
    /* As received (pointers into the FastCGI environment, or owned copies). */
    const char *method;
    char *path;                 /* percent-decoded path, no query string */
    const char *query;          /* raw query string, "" when none */
    const char *content_type;
    long long content_length;   /* -1 when absent */
    const char *remote_addr;
    const char *user_agent;
    const char *accept_language;
    const char *cookie_header;
    const char *authorization;
    const char *csrf_header;    /* X-CSRF-Token */
    const char *if_none_match;  /* If-None-Match: an ETag we sent (lib/web/app.c) */
    /* A page refreshing itself (X-VMM-Background: 1) or the live-update
     * stream: not the user's activity, so it never keeps a session from
     * timing out (lib/session.c). */
    bool background;
    bool https;
    char request_id[40];
    char *body;                 /* NUL-terminated copy of the body */
    size_t body_len;
    bool body_has_nul;          /* binary: only raw-body routes accept it */
    /* A body nginx streams unbuffered (VMM_BODY_STREAM=1, tus PATCH): not
     * read before the handler, which reads it with req_body_read
     * (lib/web/app.h); what it leaves is read and dropped after it. */
    bool body_stream;
    void *body_in;              /* the FastCGI stdin stream */
    long long body_done;        /* bytes of it read so far */
    char **envp;                /* the FastCGI environment, for req_env() */

    /* Derived. */
    bool api;                   /* under /api/v1: JSON in and out */
    const char *route_path;     /* path without the /api/v1 prefix (or ours, for an alias) */
    char *alias_path;           /* our path for one of the guide's aliases (lib/web/compat.c) */
    const char *alias_from;     /* that alias's pattern (its "from" in compat.c; static), or NULL */
    json_t *compat_names;       /* {our field: the guide's name of it} (lib/web/compat.c) */
    json_t *query_params;       /* object: name -> string */
    json_t *input;              /* validated body fields, typed */
    struct route_param params[HTTP_MAX_PARAMS];
    int nparams;

    /* Who is asking (NULL when nobody is logged in). */
    struct user *user;
    char *session_token;        /* the raw cookie value, when valid */
    long long api_token_id;     /* > 0: authenticated by a bearer token */
    char csrf_token[65];
    const char *lang;           /* "en" or "zh_CN" */

    /* What the handler produced. */
    int status;
    json_t *data;               /* what pages see; the API object is one member of it */
    const char *data_key;       /* that member's name (req_set_object), NULL: all of data */
    json_t *meta;
    json_t *page_extra;         /* members added to a page's data only (a form's choices) */
    json_t *job;                /* the job a 202 names (req_set_job): meta.job in JSON */
    char *location;             /* redirect target after a form POST */
    struct err err;

    /* The audit row of a mutating request (lib/ writes it after the
     * handler; handlers refine the target and add detail). */
    const char *audit_action;
    long long audit_target_id;
    long long audit_actor_id;   /* who asked, kept even if the handler logs them out */
    char audit_actor_name[40];
    json_t *audit_detail;
    json_t *audit_changes;      /* {"field": {"before", "after"}} (audit_change) */

    uint64_t generation;        /* the write generation a GET's answer was read at */

    /* The response being built. */
    GPtrArray *resp_headers;    /* "Name: value" strings */
    GString *resp_body;
    const char *resp_type;
    bool resp_raw;              /* the handler wrote resp_body itself (CSV, image) */
};

void req_init(struct req *r);
void req_reset(struct req *r);

/* Reads the request line and headers from a FastCGI environment.
 * Returns 0, or -1 with r->err set (bad Content-Length, oversize header,
 * NUL or bad escapes in the path). */
int req_parse_env(struct req *r, char **envp);
/* Takes ownership of a body read by the caller. Returns 0 or -1 (r->err) */
int req_set_body(struct req *r, char *body, size_t len);

/* Records a failure in e (the first one wins) and returns -1. */
int err_set(struct err *e, int status, const char *code, const char *field,
            const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Sets r->err and returns -1, so handlers can `return req_fail(...)`. */
int req_fail(struct req *r, int status, const char *code, const char *field,
             const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The value of cookie name, newly allocated, or NULL. */
char *req_cookie(const struct req *r, const char *name);
/* A FastCGI parameter as nginx passed it ("HTTP_UPLOAD_OFFSET"), or NULL. */
const char *req_env(const struct req *r, const char *name);
/* The value of a query parameter, or NULL. */
const char *req_query(const struct req *r, const char *name);
/* The path parameter of that name (from the route pattern). */
const struct route_param *req_param(const struct req *r, const char *name);

/* Adds a response header. Refuses (returns -1) a name or value with CR, LF
 * or other control characters, so no input can split a response. */
int resp_header(struct req *r, const char *name, const char *value);
/* Sets a cookie with our fixed attributes (HttpOnly, SameSite=Strict,
 * Path=/, Secure over HTTPS). max_age 0 deletes it. */
int resp_cookie(struct req *r, const char *name, const char *value, long max_age);
/* Serializes status line, headers (security headers included) and body. */
void resp_serialize(struct req *r, GString *out);

#endif
