/* The FastCGI program around a route table: accept a request, parse it,
 * resume the session, pick the language, match the route, check the
 * permission, the CSRF token and the input, run the handler, write the
 * audit row, and render JSON or the page. A program's main is one call:
 *
 *   int main(int argc, char **argv) { return app_run(argv[0], routes); }
 */
#ifndef VMM_APP_H
#define VMM_APP_H

#include "http.h"
#include "router.h"

#include <stdio.h>

/* With VMM_LIST_ROUTES=1 in the environment, prints the routes (one JSON
 * object a line: method, pattern, perm, kind, action, summary, title,
 * reply, statuses, raw_body and the body's JSON Schema) and returns 0:
 * the authorization test and tools/vmm-openapi read them. */
int app_run(const char *program, const struct route *routes);
void app_print_routes(const struct route *routes, FILE *out);
/* Loads config, messages, templates and connects the DB (tests use it). */
int app_init(const char *program);
/* Serves one parsed request (r->err may already hold a parse failure). */
void app_handle(struct req *r, const struct route *routes);

/* For handlers: the answer is obj (which this takes over). Pages see it
 * as data.<key> ("vm.name" in a template); a JSON answer's data is obj
 * itself. Other members a handler adds to r->data afterwards are for the
 * page only. */
void req_set_object(struct req *r, const char *key, json_t *obj);
/* For handlers: the job a 202 answer started (taken over). JSON
 * answers name it in meta.job; data stays the object the job works on
 * (or is the job itself when the handler sets no data). Pages see it as
 * data.job. */
void req_set_job(struct req *r, json_t *job);

/* For handlers of a streamed body (r->body_stream): up to n more bytes of
 * it into buf. The count read (fewer than n only just before the body
 * ends), 0 once Content-Length bytes are in, -1 if the body ended early
 * (the client went away) or cannot be read. */
long req_body_read(struct req *r, void *buf, size_t n);

/* For handlers: a database failure as the 503 the API promises. */
int fail_db(struct req *r);
/* db_transaction for a handler: body(r, ctx) runs in a transaction, again
 * when the database asks for it (so it must be safe to run again: r->err
 * is cleared before each attempt). A failure without an error of the
 * body's answers 503 (fail_db). Returns body's result or -1. */
int req_transaction(struct req *r, int (*body)(struct req *r, void *ctx), void *ctx);
/* For handlers: a safe local redirect target ("/x", not "//host"), or NULL. */
const char *local_path(const char *target);

#endif
