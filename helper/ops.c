#include "ops.h"

#include <string.h>

#include "host.h"

static int op_ping(struct op_call *call)
{
    call->result = json_pack("{s:b}", "pong", 1);
    return 0;
}

static int op_host_info(struct op_call *call)
{
    call->result = host_info(&call->err);
    return call->result ? 0 : -1;
}

static const struct field no_args[] = { { NULL } };

static const struct op ops[] = {
    { "ping", op_ping, no_args, false },
    { "host.info", op_host_info, no_args, false },
    { NULL },
};

const struct op *op_find(const char *name)
{
    for (const struct op *op = ops; name && op->name; op++)
        if (!strcmp(op->name, name))
            return op;
    return NULL;
}
