/* A program is a table of routes. Each names the method, the path pattern
 * (without the /api/v1 prefix: one route serves the page and its JSON
 * twin), the handler, the permission the caller needs, the page template,
 * and the body fields it accepts. lib/ checks all of that before the
 * handler runs. */
#ifndef VMM_ROUTER_H
#define VMM_ROUTER_H

#include "http.h"
#include "input.h"

enum perm {
    PERM_ANON,    /* anyone, logged in or not */
    PERM_USER,    /* any logged-in, enabled account */
    PERM_ADMIN,   /* role admin */
};

enum route_kind {
    ROUTE_BOTH,   /* the page and /api/v1 */
    ROUTE_API,    /* /api/v1 only */
    ROUTE_PAGE,   /* the page only */
};

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
    bool cached;                /* GET answer reused until a write (lib/resp_cache.h) */
    bool raw_body;              /* the handler reads r->body itself (binary allowed) */
};

/* Finds the route for r->method and r->route_path and fills r->params.
 * NULL with r->err set: 404 for no such path, 405 for a path that exists
 * with another method, 404 for a path parameter of the wrong type. */
const struct route *router_match(struct req *r, const struct route *routes);

/* The page a form lives on: the GET route of the same path or of its
 * nearest parent, to re-render it after a failed submission. */
const struct route *router_page_for(struct req *r, const struct route *routes);

#endif
