/* Calling vmm-helper from a FastCGI program: one request, one reply. */
#ifndef VMM_HELPER_CLIENT_H
#define VMM_HELPER_CLIENT_H

#include <jansson.h>

#include "http.h"

/* Sends {op, args, actor: r->user's id} and returns the reply's data (a
 * new reference), or NULL with r->err set: the helper's own error (status,
 * code, message), or 503 helper_unavailable when it cannot be reached.
 * args is borrowed. */
json_t *helper_call(struct req *r, const char *op, json_t *args);
/* helper_call with the arguments {key: id}: op on one object. */
json_t *helper_call_id(struct req *r, const char *op, const char *key, long long id);

/* What a helper error with code and (English) message says in the current
 * language: the translation by code (with the message's facts in
 * parentheses where they matter), or the message itself. g_free it. */
char *helper_error_text(const char *code, const char *message);

#endif
