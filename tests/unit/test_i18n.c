/* Language choice and message lookup. */
#include <glib.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "audit_text.h"
#include "i18n.h"
#include "vm_error.h"
#include "unit.h"

struct accept_case {
    const char *header;
    const char *expect;   /* NULL: none supported */
};

static const struct accept_case accept_cases[] = {
    { "zh-CN,zh;q=0.9,en;q=0.8", "zh-CN" },
    { "en-US,en;q=0.9", "en" },
    { "en;q=0.5, zh;q=0.8", "zh-CN" },
    { "zh-TW", "zh-CN" },
    { "fr-FR, de;q=0.9", NULL },
    { "fr-FR, en;q=0.1", "en" },
    { "", NULL },
    { "zh;q=0", NULL },
    { "english", NULL },
    /* Empty items (found by tests/fuzz: they crashed the worker). */
    { "zh-CN,zh;q=0.9,", "zh-CN" },
    { ",en", "en" },
    { ",, ,", NULL },
};

START_TEST(test_accept_language)
{
    const struct accept_case *c = &accept_cases[_i];
    const char *got = i18n_from_accept_language(c->header);
    if (c->expect)
        ck_assert_msg(got && !strcmp(got, c->expect), "%s -> %s", c->header, got);
    else
        ck_assert_msg(got == NULL, "%s -> %s", c->header, got);
}
END_TEST

START_TEST(test_codes)
{
    ck_assert_str_eq(i18n_code("zh_CN"), "zh-CN");
    ck_assert_str_eq(i18n_code("ZH-cn"), "zh-CN");
    ck_assert_str_eq(i18n_code("en"), "en");
    ck_assert_ptr_null(i18n_code("de"));
    ck_assert_ptr_null(i18n_code(""));
    ck_assert_ptr_null(i18n_code(NULL));
}
END_TEST

START_TEST(test_messages_switch_per_request)
{
    i18n_init(LOCALE_DIR);
    i18n_use("zh-CN");
    ck_assert_str_eq(_("Log in"), "登录");
    ck_assert_str_eq(_("Wrong user name or password."), "用户名或密码错误。");
    i18n_use("en");
    ck_assert_str_eq(_("Log in"), "Log in");
    i18n_use("zh-CN");
    ck_assert_str_eq(i18n_text("Users"), "用户");
}
END_TEST

/* What libvirt and QEMU say, to the reason the VM page explains. */
static const struct {
    const char *raw, *reason;
} error_cases[] = {
    { "internal error: qemu unexpectedly closed the monitor: qemu-system-x86_64: Could not open "
      "'/var/lib/x.qcow2': No such file or directory", "disk_missing" },
    { "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x0", "kvm_failed" },
    { "Could not access KVM kernel module: Permission denied", "kvm_failed" },
    { "qemu-system-x86_64: cannot set up guest memory 'pc.ram': Cannot allocate memory",
      "out_of_memory" },
    { "qemu-system-x86_64: -drive file=/x: Permission denied", "permission_denied" },
    { "the guest crashed (libvirt state 6, reason 1)", "guest_crashed" },
    { "internal error: qemu unexpectedly closed the monitor", "qemu_died" },
    { "Domain not found: no domain with matching name 'vmm-1'", "state_unreadable" },
    { "something else entirely", "unknown" },
    { "", "unknown" },
};

START_TEST(test_vm_error_reasons)
{
    ck_assert_str_eq(vm_error_classify(error_cases[_i].raw), error_cases[_i].reason);
}
END_TEST

START_TEST(test_vm_error_messages)
{
    i18n_init(LOCALE_DIR);
    i18n_use("zh-CN");
    ck_assert_str_eq(vm_error_message("disk_missing"), "主机上缺少此虚拟机所需的磁盘或镜像。");
    /* A code the table does not know gets the message of unknown, never NULL. */
    ck_assert_str_eq(vm_error_message("no_such_reason"), vm_error_message("unknown"));
    ck_assert_ptr_nonnull(vm_error_message(NULL));
    i18n_use("en");
    ck_assert_str_eq(vm_error_message("guest_crashed"), "The guest operating system crashed.");
}
END_TEST

/* Every phrase of the action table has at most one %s and no other
 * conversion, in both languages (the target's name goes there). */
START_TEST(test_audit_phrases)
{
    i18n_init(LOCALE_DIR);
    const char *langs[] = { "en", "zh-CN" };
    for (int l = 0; l < 2; l++) {
        i18n_use(langs[l]);
        int n = 0;
        for (const char *action; (action = audit_action_at(n)); n++) {
            const char *phrase = audit_action_phrase(action);
            ck_assert_msg(phrase, "%s has no phrase", action);
            const char *first = strchr(phrase, '%');
            if (first) {
                ck_assert_msg(!strncmp(first, "%s", 2) && !strchr(first + 2, '%'),
                              "%s: %s", action, phrase);
            }
        }
        ck_assert_int_gt(n, 80);
    }
    i18n_use("zh-CN");
    ck_assert_str_eq(audit_action_phrase("vm.start"), "已启动虚拟机 %s");
    ck_assert_str_eq(audit_field_label("memory_mb"), "内存 (MiB)");
    ck_assert_str_eq(audit_field_label("no_such_key"), "no_such_key");
    i18n_use("en");
    ck_assert_str_eq(audit_action_phrase("vm.start"), "started VM %s");
    ck_assert_ptr_null(audit_action_phrase("vm.no_such_action"));
}
END_TEST

/* A row without a target needs no database: its words, its details as
 * pairs (no braces or quotes), its changes with labels. */
START_TEST(test_audit_row_in_words)
{
    i18n_init(LOCALE_DIR);
    i18n_use("en");
    json_t *items = json_loads(
        "[{\"action\": \"settings.update\", \"target_id\": null, "
        "\"detail\": {\"error\": \"out_of_range\", \"field\": \"vm_max_vcpus\", \"results\": "
        "[{\"id\": 3, \"name\": \"web-01\", \"ok\": true}, {\"id\": 4, \"ok\": false, "
        "\"error\": {\"code\": \"not_found\", \"message\": \"gone\"}}], \"before\": {\"x\": 1}}, "
        "\"changes\": {\"registration\": {\"before\": false, \"after\": true}}}]", 0, NULL);
    ck_assert_ptr_nonnull(items);
    audit_rows_in_words(items);
    json_t *row = json_array_get(items, 0);
    ck_assert_str_eq(json_string_value(json_object_get(row, "summary")), "changed the portal settings");
    json_t *details = json_object_get(row, "detail_list");
    ck_assert_int_eq(json_array_size(details), 3);   /* "before" is left out */
    char *dump = json_dumps(details, JSON_SORT_KEYS);
    ck_assert_msg(strstr(dump, "\"label\": \"Results\", \"value\": \"web-01: done, #4: failed (gone)\""),
                  "%s", dump);
    ck_assert_msg(strstr(dump, "\"label\": \"Error\", \"value\": \"out_of_range\""), "%s", dump);
    free(dump);
    json_t *change = json_array_get(json_object_get(row, "change_list"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(change, "label")), "Self-registration");
    ck_assert_str_eq(json_string_value(json_object_get(change, "before")), "no");
    ck_assert_str_eq(json_string_value(json_object_get(change, "after")), "yes");
    json_decref(items);
}
END_TEST

/* Every message has a Chinese translation, none of them a fuzzy guess. */
START_TEST(test_chinese_catalog_complete)
{
    char *text = NULL;
    ck_assert(g_file_get_contents(PO_DIR "/zh_CN.po", &text, NULL, NULL));
    ck_assert_msg(!strstr(text, "#, fuzzy"), "po/zh_CN.po has fuzzy entries (tools/po-update)");
    /* An empty msgstr other than the header's is an untranslated message. */
    static const char needle[] = "\nmsgstr \"\"\n";
    const char *p = text;
    int empty = 0;
    while ((p = strstr(p, needle))) {
        p += sizeof needle - 1;
        if (strncmp(p, "\"", 1) != 0)   /* the header continues on the next line */
            empty++;
    }
    ck_assert_msg(empty == 0, "po/zh_CN.po has %d untranslated messages (tools/po-update)", empty);
    g_free(text);
}
END_TEST

static Suite *i18n_suite(void)
{
    Suite *s = suite_create("i18n");
    TCase *tc = tcase_create("lang");
    tcase_add_loop_test(tc, test_accept_language, 0, G_N_ELEMENTS(accept_cases));
    tcase_add_test(tc, test_codes);
    tcase_add_test(tc, test_messages_switch_per_request);
    tcase_add_test(tc, test_chinese_catalog_complete);
    tcase_add_loop_test(tc, test_vm_error_reasons, 0, G_N_ELEMENTS(error_cases));
    tcase_add_test(tc, test_vm_error_messages);
    tcase_add_test(tc, test_audit_phrases);
    tcase_add_test(tc, test_audit_row_in_words);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(i18n_suite)
