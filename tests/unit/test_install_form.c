/* The automated-install form (lib/web/install_form.c) and the YAML it writes
 * (lib/yaml_doc.c): table-driven. What cloud-init, debconf and a
 * kickstart parser make of the output is checked against the real tools
 * in tests/integration/installs.test.mjs; here, the checks and the merge. */
#include <string.h>

#include "install_form.h"
#include "unit.h"
#include "yaml_doc.h"

/* An ed25519 key made with ssh-keygen for these tests. */
#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJImIMVANnlV/pjj4dFeXl6jMCLepmoDPHPnNUOpcP1F a \"b\" 测试"

static const struct {
    const char *json;
    const char *code;   /* NULL: accepted */
} forms[] = {
    { "{\"type\":\"cloud-init\",\"hostname\":\"web-01.example\"}", NULL },
    { "{\"type\":\"cloud-init\",\"hostname\":\"-web\"}", "invalid_hostname" },
    { "{\"type\":\"cloud-init\",\"hostname\":\"a..b\"}", "invalid_hostname" },
    { "{\"type\":\"cloud-init\",\"hostname\":\"测试\"}", "invalid_hostname" },
    { "{\"type\":\"cloud-init\",\"hostname\":\"h\",\"user\":\"root\"}", "invalid_user" },
    { "{\"type\":\"cloud-init\",\"hostname\":\"h\",\"user\":\"9lives\"}", "invalid_user" },
    { "{\"type\":\"cloud-init\",\"hostname\":\"h\",\"user\":\"ops_1-a\"}", NULL },
    { "{\"type\":\"cloud-init\",\"hostname\":\"h\",\"password\":\"x\"}", "password_needs_user" },
    { "{\"type\":\"cloud-init\",\"hostname\":\"h\",\"ssh_keys\":[\"" "ssh-ed25519 AAAA x\"]}", "invalid_ssh_key" },
    { "{\"type\":\"cloud-init\",\"hostname\":\"h\",\"ssh_keys\":[\"ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIJImIMVANnlV/pjj4dFeXl6jMCLepmoDPHPnNUOpcP1F\"]}", "invalid_ssh_key" },
    { "{\"type\":\"cloud-init\",\"hostname\":\"h\",\"ssh_keys\":[\"" "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJImIMVANnlV/pjj4dFeXl6jMCLepmoDPHPnNUOpcP1F a \\\"b\\\" 测试" "\"]}", NULL },
    { "{\"type\":\"kickstart\",\"hostname\":\"h\",\"ssh_keys\":[\"" "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJImIMVANnlV/pjj4dFeXl6jMCLepmoDPHPnNUOpcP1F" "\"]}", "keys_need_user" },
    { "{\"type\":\"cloud-init\",\"hostname\":\"h\",\"packages\":[\"curl;rm\"]}", "invalid_package" },
    { "{\"type\":\"cloud-init\",\"hostname\":\"h\",\"commands\":[\"%end\"]}", "invalid_command" },
    { "{\"type\":\"kickstart\",\"hostname\":\"h\",\"user_data\":\"#cloud-config\\n\"}", "user_data_not_cloud_init" },
    { "{\"type\":\"preseed\",\"hostname\":\"h\",\"user\":\"ops\"}", "preseed_needs_user" },
};

START_TEST(test_forms)
{
    json_t *in = json_loads(forms[_i].json, 0, NULL);
    ck_assert_ptr_nonnull(in);
    struct install_form form;
    struct err err = { 0 };
    int rc = install_form_read(in, &form, &err);
    if (forms[_i].code) {
        ck_assert_int_eq(rc, -1);
        ck_assert_str_eq(err.code, forms[_i].code);
        ck_assert_msg(!strncmp(err.field, "install.", 8), "%s", err.field);
    } else {
        ck_assert_msg(rc == 0, "%s: %s", forms[_i].json, err.message);
    }
    install_form_clear(&form);
    json_decref(in);
}
END_TEST

static const struct {
    const char *user_data;
    const char *code;       /* NULL: merged */
    const char *contains;   /* in the merged text */
} user_data[] = {
    { "#cloud-config\npackages: [htop]\n", NULL, "packages: [htop, \"curl\"]" },
    { "#cloud-config   \r\nhostname: old\n", NULL, "hostname: \"new-host\"" },
    { "#cloud-config\n", NULL, "runcmd:\n- \"echo 'a: b' # c\"" },
    { "#cloud-config\nusers:\n- name: x\n", NULL, "- name: x\n- name: \"ops\"" },
    { "#cloud-config\nwrite_files:\n- content: \"欢迎\"\n", NULL, "欢迎" },
    { "#cloud-config\nno: [unclosed\n", "invalid_yaml", NULL },
    { "#cloud-config\na: 1\n---\nb: 2\n", "invalid_yaml", NULL },
    { "packages: [htop]\n", "not_cloud_config", NULL },
    { "#cloud-configx\n", "not_cloud_config", NULL },
    { "#cloud-config\n- a\n", "invalid_cloud_config", NULL },
    { "#cloud-config\nusers: nobody\n", "invalid_cloud_config", NULL },
    { "#cloud-config\npackages: {a: 1}\n", "invalid_cloud_config", NULL },
};

START_TEST(test_user_data)
{
    json_t *in = json_pack("{s:s, s:s, s:s, s:[s], s:[s], s:s}", "type", "cloud-init", "hostname",
                           "new-host", "user", "ops", "packages", "curl", "commands",
                           "echo 'a: b' # c", "user_data", user_data[_i].user_data);
    struct install_form form;
    struct err err = { 0 };
    ck_assert_int_eq(install_form_read(in, &form, &err), 0);
    char *text = install_form_render(&form, &err);
    if (user_data[_i].code) {
        ck_assert_ptr_null(text);
        ck_assert_str_eq(err.code, user_data[_i].code);
    } else {
        ck_assert_msg(text != NULL, "%s", err.message);
        ck_assert(g_str_has_prefix(text, "#cloud-config\n"));
        ck_assert_msg(strstr(text, user_data[_i].contains), "%s", text);
        /* What we wrote reads back as YAML. */
        yaml_document_t doc;
        char problem[160];
        ck_assert_int_eq(yaml_doc_load(&doc, text, strlen(text), problem, sizeof problem), 0);
        yaml_document_delete(&doc);
    }
    g_free(text);
    install_form_clear(&form);
    json_decref(in);
}
END_TEST

/* Kickstart quoting is POSIX shell's (pykickstart uses shlex); preseed
 * values stay on their line, what the guest runs travels as base64. */
START_TEST(test_kickstart_and_preseed)
{
    json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:[s], s:[s]}", "type", "kickstart", "hostname",
                           "h", "user", "ops", "password", "p'w\"", "ssh_keys", KEY, "commands",
                           "echo \"x\"");
    struct install_form form;
    struct err err = { 0 };
    ck_assert_int_eq(install_form_read(in, &form, &err), 0);
    ck_assert(g_str_has_prefix(form.password_hash, "$6$"));
    char *ks = install_form_render(&form, &err);
    ck_assert_ptr_nonnull(strstr(ks, "sshkey --username=ops '" KEY "'\n"));
    ck_assert_ptr_nonnull(strstr(ks, "--iscrypted --password='$6$"));
    ck_assert_ptr_null(strstr(ks, "p'w"));
    g_free(ks);
    g_strlcpy(form.type, "preseed", sizeof form.type);
    char *preseed = install_form_render(&form, &err);
    ck_assert_ptr_nonnull(strstr(preseed, "d-i passwd/user-password-crypted password $6$"));
    gchar **lines = g_strsplit(preseed, "\n", -1);
    for (gchar **l = lines; *l; l++)
        ck_assert_msg(!**l || **l == '#' || g_str_has_prefix(*l, "d-i ") ||
                          g_str_has_prefix(*l, "tasksel "),
                      "a line of its own: %s", *l);
    g_strfreev(lines);
    g_free(preseed);
    install_form_clear(&form);
    json_decref(in);
}
END_TEST

static Suite *install_form_suite(void)
{
    Suite *s = suite_create("install_form");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_forms, 0, G_N_ELEMENTS(forms));
    tcase_add_loop_test(tc, test_user_data, 0, G_N_ELEMENTS(user_data));
    tcase_add_test(tc, test_kickstart_and_preseed);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(install_form_suite)
