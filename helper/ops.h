/* The helper's operations: one table, each op with its argument fields
 * (validated before it runs) and whether it needs an admin actor. */
#ifndef VMM_HELPER_OPS_H
#define VMM_HELPER_OPS_H

#include <jansson.h>
#include <stdbool.h>

#include "http.h"
#include "input.h"
#include "user.h"

struct op_call {
    json_t *args;             /* validated against the op's fields */
    const struct user *actor; /* loaded from the DB by the helper, never trusted from the client */
    json_t *result;           /* set by the op */
    struct err err;           /* set on failure */
};

struct op {
    const char *name;
    int (*run)(struct op_call *call);
    const struct field *args;
    bool admin_only;
    bool needs_actor;
    /* Only for vmm-scheduler's own socket ([helper] scheduler_socket), and
     * the only ops that socket serves: a narrow path that names no actor. */
    bool scheduler_only;
};

/* The op named name, or NULL. */
const struct op *op_find(const char *name);

/* A request {op, args, ...} as read from a client, checked. */
struct op_request {
    const char *name;         /* the op's name as sent (NULL if none) */
    const struct op *op;
    json_t *args;             /* a new reference, validated against op->args */
};

/* Finds the op and validates its args: no database, no libvirt (the fuzz
 * harness calls it; the actor is actor_verify's). 0, or -1 with err set;
 * either way the caller frees req->args. */
int op_request_parse(json_t *request, struct op_request *req, struct err *err);

#endif
