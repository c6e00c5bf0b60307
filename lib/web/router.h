/* A program is a table of routes. Each names the method, the path pattern
 * (without the /api/v1 prefix: one route serves the page and its JSON
 * twin), the handler, the permission the caller needs, the page template,
 * and the body fields it accepts. lib/ checks all of that before the
 * handler runs. */
#ifndef VMM_ROUTER_H
#define VMM_ROUTER_H

#include "http.h"
#include "input.h"
#include "rbac.h"

enum route_kind {
    ROUTE_BOTH,   /* the page and /api/v1 */
    ROUTE_API,    /* /api/v1 only */
    ROUTE_PAGE,   /* the page only */
};

/* The shape of a route's success, as the OpenAPI description
 * (GET /api/v1/openapi.json, docs/api-reference.md) tells clients. */
enum route_reply {
    REPLY_OBJECT,   /* 200, data is an object */
    REPLY_LIST,     /* 200, data is a list, meta the paging (?page=&per_page=&q=&sort=) */
    REPLY_CREATED,  /* 201, data is the new object (meta.job when work goes on) */
    REPLY_JOB,      /* 202, data is the object the job works on, meta.job the job */
    REPLY_EMPTY,    /* 204, no body */
    REPLY_RAW,      /* 200, not JSON: a file, a picture, text (the handler writes it) */
    REPLY_ITEMS,    /* 200, data is the whole list (no paging, no meta) */
};

/* The statuses a route's handler may answer beyond its reply's and those
 * lib/ gives every route (401/403 of the permission, 400/413/415 of the
 * body, 404 of a path id, 503): .statuses = STATUSES(409, 422). */
#define STATUSES(...) ((const int[]){ __VA_ARGS__, 0 })

typedef int (*route_handler)(struct req *r);

struct route {
    const char *method;
    const char *pattern;        /* "/users/{id:int}", "/x/{name}" */
    route_handler handler;
    enum perm perm;
    enum route_kind kind;
    const char *page;           /* template of the HTML twin (GET routes) */
    const char *title;          /* page title msgid */
    const struct field *fields; /* accepted body fields, {NULL}-terminated */
    const char *action;         /* audit action of a mutating route: "user.create" */
    bool cached;                /* GET answer reused until a write (lib/web/resp_cache.h) */
    bool raw_body;              /* the handler reads r->body itself (binary allowed) */
    /* For the API's description (VMM_LIST_ROUTES, tools/vmm-openapi): what
     * the route does in one line, the shape of its success, and the other
     * statuses it answers. A new route with these is in OpenAPI and the docs. */
    const char *summary;
    enum route_reply reply;
    const int *statuses;        /* {0}-terminated, STATUSES(...) */
};

/* Finds the route for r->method and r->route_path and fills r->params.
 * NULL with r->err set: 404 for no such path, 405 for a path that exists
 * with another method, 404 for a path parameter of the wrong type. */
const struct route *router_match(struct req *r, const struct route *routes);

/* The page a form lives on: the GET route of the same path or of its
 * nearest parent, to re-render it after a failed submission. */
const struct route *router_page_for(struct req *r, const struct route *routes);

#endif
