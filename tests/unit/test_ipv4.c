/* IPv4 addresses, CIDR blocks, network names (lib/ipv4.c) and where
 * storage pools may go (lib/storage_path.c): table-driven. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dns_servers.h"
#include "ipv4.h"
#include "storage_path.h"
#include "unit.h"

static const struct { const char *text; int ok; uint32_t value; } addresses[] = {
    { "192.168.231.1", 0, 0xc0a8e701 }, { "0.0.0.0", 0, 0 }, { "255.255.255.255", 0, 0xffffffff },
    { "256.1.1.1", -1, 0 }, { "1.2.3", -1, 0 }, { "1.2.3.4.5", -1, 0 }, { "01.2.3.4", -1, 0 },
    { "1.2.3.4 ", -1, 0 }, { " 1.2.3.4", -1, 0 }, { "1..3.4", -1, 0 }, { "a.b.c.d", -1, 0 },
    { "1.2.3.1000", -1, 0 }, { "", -1, 0 }, { "1.2.3.-4", -1, 0 },
};

START_TEST(test_addresses)
{
    uint32_t v = 0;
    ck_assert_int_eq(ipv4_parse(addresses[_i].text, &v), addresses[_i].ok);
    if (addresses[_i].ok == 0) {
        char buf[16];
        ck_assert_uint_eq(v, addresses[_i].value);
        ck_assert_str_eq(ipv4_format(v, buf), addresses[_i].text);
    }
}
END_TEST

static const struct { const char *text; int ok; } blocks[] = {
    { "192.168.231.0/24", 0 }, { "10.0.0.0/8", 0 }, { "192.168.231.128/25", 0 },
    { "192.168.231.1/24", -1 }, { "192.168.231.0/7", -1 }, { "192.168.231.0/31", -1 },
    { "192.168.231.0/", -1 }, { "192.168.231.0", -1 }, { "192.168.231.0/24x", -1 },
    { "192.168.231.0/-1", -1 }, { "/24", -1 }, { "192.168.231.0/024", -1 },
};

START_TEST(test_blocks)
{
    struct cidr c;
    ck_assert_int_eq(cidr_parse(blocks[_i].text, &c), blocks[_i].ok);
}
END_TEST

START_TEST(test_overlap_and_hosts)
{
    struct cidr a, b, c, d;
    ck_assert_int_eq(cidr_parse("192.168.231.0/24", &a), 0);
    ck_assert_int_eq(cidr_parse("192.168.231.128/25", &b), 0);
    ck_assert_int_eq(cidr_parse("192.168.232.0/24", &c), 0);
    ck_assert_int_eq(cidr_parse("192.168.0.0/16", &d), 0);
    ck_assert(cidr_overlap(&a, &b) && cidr_overlap(&b, &a));
    ck_assert(!cidr_overlap(&a, &c));
    ck_assert(cidr_overlap(&d, &c) && cidr_overlap(&c, &d));
    char buf[16];
    ck_assert_str_eq(ipv4_format(cidr_first_host(&a), buf), "192.168.231.1");
    ck_assert_str_eq(ipv4_format(cidr_last_host(&a), buf), "192.168.231.254");
    ck_assert_str_eq(ipv4_format(cidr_mask(&b), buf), "255.255.255.128");
}
END_TEST

static const struct { const char *name; bool ok; } names[] = {
    { "lab", true }, { "t12n-abc.1_x", true }, { "9net", true },
    { "", false }, { "-lab", false }, { ".lab", false }, { "la b", false }, { "la/b", false },
    { "网络", false }, { "a23456789012345678901234567890123456789012345678", true },
    { "a234567890123456789012345678901234567890123456789", false },
};

START_TEST(test_names)
{
    ck_assert(net_name_valid(names[_i].name) == names[_i].ok);
}
END_TEST

static const struct { const char *domain; bool ok; } domains[] = {
    { "lab.example", true }, { "lab", true }, { "a-b.c", true },
    { "Lab.example", false }, { ".lab", false }, { "lab.", false }, { "la..b", false },
    { "-lab", false }, { "la_b", false }, { "", false },
};

START_TEST(test_domains)
{
    ck_assert(net_domain_valid(domains[_i].domain) == domains[_i].ok);
}
END_TEST

static const struct { const char *path; bool ok; } paths[] = {
    { "/srv/vmm-storage/pool1", true }, { "/srv/vmm-storage/a/b", true },
    { "/srv/vmm-storage", false },           /* the root itself */
    { "/srv/vmm-storage-other/x", false },   /* a sibling, not under it */
    { "/", false }, { "/etc/pool", false }, { "/srv/vmm-storage/../etc", false },
    { "/srv/vmm-storage/./x", false }, { "/srv/vmm-storage/x/", false },
    { "srv/vmm-storage/x", false }, { "/srv/vmm-storage/a b", false },
    { "/srv/vmm-storage//x", false }, { "/var/test-state/pool/x", false },
    { "/var/test-state/x", false }, { "/tmp/x", false },
};

START_TEST(test_storage_paths)
{
    setenv("VMM_STORAGE_ALLOWED_ROOTS", "/srv/vmm-storage, /var", 1);
    setenv("VMM_STORAGE_STATE_DIR", "/var/test-state", 1);
    char why[256] = "";
    ck_assert_msg(storage_path_allowed(paths[_i].path, why, sizeof why) == paths[_i].ok, "%s: %s",
                  paths[_i].path, why);
}
END_TEST

/* A network's or a pool's DNS servers: the API's array or the form's
 * line ("a, b") into the column; no dns takes the fallback. */
static const struct {
    const char *input;      /* JSON of r->input */
    const char *fallback;
    const char *column;     /* NULL: refused */
    const char *code;
} dns_cases[] = {
    { "{\"dns\": [\"1.1.1.1\", \"8.8.8.8\"]}", NULL, "1.1.1.1,8.8.8.8", NULL },
    { "{\"dns\": \"1.1.1.1, 8.8.8.8\"}", NULL, "1.1.1.1,8.8.8.8", NULL },
    { "{\"dns\": \"  1.1.1.1,,8.8.8.8 \"}", NULL, "1.1.1.1,8.8.8.8", NULL },
    { "{\"dns\": []}", "9.9.9.9", "", NULL },
    { "{\"dns\": \"\"}", "9.9.9.9", "", NULL },
    { "{}", "9.9.9.9", "9.9.9.9", NULL },
    { "{}", NULL, "", NULL },
    { "{\"dns\": [\"not-an-ip\"]}", NULL, NULL, "invalid_address" },
    { "{\"dns\": \"1.1.1.1 010.0.0.1\"}", NULL, NULL, "invalid_address" },
    { "{\"dns\": \"1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 1.1.1.6 1.1.1.7 1.1.1.8\"}", NULL,
      "1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8", NULL },
    { "{\"dns\": \"1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 1.1.1.6 1.1.1.7 1.1.1.8 1.1.1.9\"}",
      NULL, NULL, "invalid_length" },
};

START_TEST(test_dns_servers)
{
    struct req r;
    req_init(&r);
    r.input = json_loads(dns_cases[_i].input, 0, NULL);
    ck_assert_ptr_nonnull(r.input);
    char column[256] = "unset";
    int rc = dns_servers_input(&r, column, sizeof column, dns_cases[_i].fallback);
    if (dns_cases[_i].column) {
        ck_assert_msg(rc == 0, "%s: %s", dns_cases[_i].input, r.err.message);
        ck_assert_str_eq(column, dns_cases[_i].column);
        /* And back: the array the API shows has each server once. */
        json_t *list = dns_servers_json(column);
        size_t n = *column ? 1 : 0;
        for (const char *c = column; *c; c++)
            n += *c == ',';
        ck_assert_uint_eq(json_array_size(list), n);
        json_decref(list);
    } else {
        ck_assert_msg(rc == -1, "%s accepted", dns_cases[_i].input);
        ck_assert_str_eq(r.err.code, dns_cases[_i].code);
        ck_assert_str_eq(r.err.field, "dns");
        ck_assert_str_eq(column, "unset");
    }
    req_reset(&r);
}
END_TEST

static Suite *ipv4_suite(void)
{
    Suite *s = suite_create("ipv4");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_addresses, 0, G_N_ELEMENTS(addresses));
    tcase_add_loop_test(tc, test_blocks, 0, G_N_ELEMENTS(blocks));
    tcase_add_test(tc, test_overlap_and_hosts);
    tcase_add_loop_test(tc, test_names, 0, G_N_ELEMENTS(names));
    tcase_add_loop_test(tc, test_domains, 0, G_N_ELEMENTS(domains));
    tcase_add_loop_test(tc, test_storage_paths, 0, G_N_ELEMENTS(paths));
    tcase_add_loop_test(tc, test_dns_servers, 0, G_N_ELEMENTS(dns_cases));
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(ipv4_suite)
