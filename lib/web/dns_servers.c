/* The networks' and IP pools' DNS servers, read and written the one way. */
#include "dns_servers.h"

#include <glib.h>
#include <stdint.h>
#include <stdio.h>

#include "i18n.h"
#include "ipv4.h"

json_t *dns_servers_json(const char *text)
{
    json_t *list = json_array();
    gchar **servers = g_strsplit(text ? text : "", ",", DNS_SERVERS_MAX);
    for (gchar **s = servers; *s; s++)
        if (**s)
            json_array_append_new(list, json_string(*s));
    g_strfreev(servers);
    return list;
}

int dns_servers_input(struct req *r, char *out, size_t size, const char *fallback)
{
    json_t *dns = json_object_get(r->input, "dns");
    GString *text = g_string_new(NULL);
    if (json_is_array(dns)) {
        size_t i;
        json_t *s;
        json_array_foreach(dns, i, s)
            g_string_append_printf(text, "%s%s", i ? "," : "", json_string_value(s));
    } else if (json_is_string(dns)) {
        gchar **parts = g_strsplit_set(json_string_value(dns), ", ", 16);
        for (gchar **p = parts; *p; p++)
            if (**p)
                g_string_append_printf(text, "%s%s", text->len ? "," : "", *p);
        g_strfreev(parts);
    } else {
        g_string_append(text, fallback ? fallback : "");
    }
    gchar **servers = g_strsplit(text->str, ",", 16);
    int rc = 0, n = 0;
    for (gchar **s = servers; *s && rc == 0; s++, n++) {
        uint32_t ip;
        if (**s && ipv4_parse(*s, &ip) < 0)
            rc = req_fail(r, 400, "invalid_address", "dns", _("%s is not an IPv4 address."), *s);
    }
    g_strfreev(servers);
    if (rc == 0 && (n > DNS_SERVERS_MAX || text->len >= size))
        rc = req_fail(r, 400, "invalid_length", "dns", _("Give at most 8 DNS servers."));
    if (rc == 0)
        snprintf(out, size, "%s", text->str);
    g_string_free(text, TRUE);
    return rc;
}
