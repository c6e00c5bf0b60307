/* vmm-dashboard: the home page (who you are and what you have), and the
 * answer for every address no other program claims (a 404). */
#include "app.h"
#include "db.h"
#include "i18n.h"
#include "user.h"

static long long count(const char *sql, long long id)
{
    struct db_rows *rows = id ? db_query(sql, DB_INT(id)) : db_query(sql);
    long long n = db_cell_int(rows, 0, 0, -1);
    db_rows_free(rows);
    return n;
}

static int dashboard(struct req *r)
{
    long long sessions = count("SELECT COUNT(*) FROM sessions WHERE user_id = ?", r->user->id);
    if (sessions < 0)
        return fail_db(r);
    json_t *data = json_pack("{s:o, s:{s:I}}", "user", user_to_json(r->user), "counts",
                             "sessions", (json_int_t)sessions);
    /* What the whole portal holds, for admins only. */
    if (r->user->role == ROLE_ADMIN)
        json_object_set_new(data, "totals",
                            json_pack("{s:I, s:I}",
                                      "users", (json_int_t)count("SELECT COUNT(*) FROM users", 0),
                                      "users_enabled", (json_int_t)count(
                                          "SELECT COUNT(*) FROM users WHERE enabled = 1", 0)));
    r->data = data;
    return 0;
}

static const struct route routes[] = {
    { "GET", "/", dashboard, PERM_USER, ROUTE_PAGE, "dashboard.tpl", N_("Dashboard") },
    { "GET", "/dashboard", dashboard, PERM_USER, ROUTE_API },
    { NULL },
};

int main(int argc, char **argv)
{
    return app_run(argv[0], routes);
}
