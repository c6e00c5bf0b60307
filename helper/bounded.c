#include "bounded.h"

#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "virt.h"

struct bounded {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    bool abandoned;   /* the request answered without it: the op's thread frees */
    int rc;
    const struct op *op;
    struct op_call call;   /* the op's own copy */
};

static void bounded_free(struct bounded *b)
{
    json_decref(b->call.args);
    json_decref(b->call.result);
    user_free((struct user *)b->call.actor);
    pthread_cond_destroy(&b->cond);
    pthread_mutex_destroy(&b->lock);
    g_free(b);
}

/* op->run, and no transaction left open: it would swallow the thread's
 * next writes. */
static int run_checked(const struct op *op, struct op_call *call)
{
    int rc = op->run(call);
    if (db_in_transaction()) {
        log_error("op %s left a transaction open; rolled back", op->name);
        db_rollback();
        rc = -1;
    }
    return rc;
}

static void *op_thread(void *arg)
{
    struct bounded *b = arg;
    int rc = run_checked(b->op, &b->call);
    db_close();   /* this thread's connection */
    pthread_mutex_lock(&b->lock);
    b->rc = rc;
    b->done = true;
    bool abandoned = b->abandoned;
    pthread_cond_signal(&b->cond);
    pthread_mutex_unlock(&b->lock);
    if (abandoned) {
        log_warn("op %s finished (%s) after its request had timed out", b->op->name,
                 rc == 0 ? "ok" : b->call.err.code[0] ? b->call.err.code : "failed");
        bounded_free(b);
    }
    return NULL;
}

int op_run_bounded(const struct op *op, struct op_call *call)
{
    if (op->no_deadline)
        return run_checked(op, call);
    struct bounded *b = g_new0(struct bounded, 1);
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->cond, NULL);
    b->op = op;
    b->call = *call;   /* whatever else a call carries, then its own copies */
    b->call.result = NULL;
    b->call.args = json_deep_copy(call->args);
    b->call.actor = call->actor ? user_copy(call->actor) : NULL;

    pthread_t thread;
    if (pthread_create(&thread, NULL, op_thread, b) != 0) {
        bounded_free(b);
        return err_set(&call->err, 503, "helper_busy", NULL, "The helper is too busy. Try again shortly.");
    }
    pthread_detach(thread);

    int deadline_s = virt_deadline_s();
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += deadline_s;
    pthread_mutex_lock(&b->lock);
    while (!b->done)
        if (pthread_cond_timedwait(&b->cond, &b->lock, &until) == ETIMEDOUT)
            break;
    if (!b->done) {
        b->abandoned = true;
        pthread_mutex_unlock(&b->lock);
        log_warn("op %s: no answer within %d s", op->name, deadline_s);
        return err_set(&call->err, 503, "libvirt_timeout", NULL,
                       "The virtualization service did not answer within %d seconds. Try again "
                       "shortly.", deadline_s);
    }
    pthread_mutex_unlock(&b->lock);
    int rc = b->rc;
    call->err = b->call.err;
    call->result = b->call.result;
    b->call.result = NULL;
    bounded_free(b);
    return rc;
}
