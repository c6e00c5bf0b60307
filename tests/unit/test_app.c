/* lib/web/app.c around a handler: what the client gets when a handler fails
 * without saying why. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "i18n.h"
#include "unit.h"

static int h_silent_failure(struct req *r)
{
    /* What a careless handler does: data half made, no error set. */
    r->data = json_pack("{s:b}", "done", 1);
    return -1;
}

static int h_fine(struct req *r)
{
    r->data = json_pack("{s:b}", "done", 1);
    return 0;
}

static const struct route routes[] = {
    { "GET", "/broken", h_silent_failure, PERM_ANON, ROUTE_BOTH, "error.tpl" },
    { "GET", "/fine", h_fine, PERM_ANON, ROUTE_API },
    { NULL },
};

/* Serves one GET with stderr captured into log (at most size bytes). */
static void serve(struct req *r, const char *uri, const char *lang, char *log, size_t size)
{
    char *uri_var = g_strdup_printf("REQUEST_URI=%s", uri);
    char *lang_var = g_strdup_printf("HTTP_ACCEPT_LANGUAGE=%s", lang);
    char *env[] = { "REQUEST_METHOD=GET", uri_var, lang_var, "REQUEST_ID=abc123def456", NULL };
    FILE *capture = tmpfile();
    ck_assert_ptr_nonnull(capture);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(capture), STDERR_FILENO);

    ck_assert_int_eq(req_parse_env(r, env), 0);
    app_handle(r, routes);

    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(capture);
    size_t n = fread(log, 1, size - 1, capture);
    log[n] = '\0';
    fclose(capture);
    g_free(uri_var);
    g_free(lang_var);
}

START_TEST(test_silent_failure_is_a_logged_500)
{
    struct req r;
    char log[4096];
    req_init(&r);
    serve(&r, "/api/v1/broken", "en", log, sizeof log);
    ck_assert_int_eq(r.status, 500);
    json_t *body = json_loads(r.resp_body->str, 0, NULL);
    ck_assert_ptr_nonnull(body);
    json_t *error = json_object_get(body, "error");
    ck_assert_str_eq(json_string_value(json_object_get(error, "code")), "internal_error");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(error, "message")),
                                 "abc123def456"));
    /* The half-made data is not sent. */
    ck_assert_ptr_null(strstr(r.resp_body->str, "done"));
    json_decref(body);
    /* The log says which request, so the id a user quotes finds it. */
    ck_assert_msg(strstr(log, " error ") && strstr(log, "abc123def456") && strstr(log, "/broken"),
                  "log: %s", log);
    req_reset(&r);

    /* Pages too, in the visitor's language. */
    serve(&r, "/broken", "zh-CN", log, sizeof log);
    ck_assert_int_eq(r.status, 500);
    ck_assert_str_eq(r.err.code, "internal_error");
    ck_assert_msg(strstr(r.err.message, "abc123def456") && strstr(r.err.message, "管理员"),
                  "message: %s", r.err.message);
    req_reset(&r);

    /* A handler that succeeds is left alone. */
    serve(&r, "/api/v1/fine", "en", log, sizeof log);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_null(strstr(log, " error "));
    req_reset(&r);
}
END_TEST

static void setup(void)
{
    setenv("VMM_PATHS_TEMPLATES_DIR", TEMPLATES_DIR, 1);
    setenv("VMM_PATHS_LOCALE_DIR", LOCALE_DIR, 1);
    setenv("VMM_CONFIG", "", 1); /* no file: defaults and overrides only */
    ck_assert_int_eq(app_init("test_app"), 0);
}

static Suite *app_suite(void)
{
    Suite *s = suite_create("app");
    TCase *tc = tcase_create("handlers");
    tcase_add_unchecked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_silent_failure_is_a_logged_500);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(app_suite)
