#include "tus.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "input.h"

bool tus_parse_size(const char *text, long long *out)
{
    size_t n = text ? strlen(text) : 0;
    if (n == 0 || n > 18 || strspn(text, "0123456789") != n)
        return false;
    *out = strtoll(text, NULL, 10);
    return true;
}

char *tus_safe_text(const char *text, long max_chars)
{
    GString *out = g_string_new(NULL);
    for (const char *p = text; *p && g_utf8_strlen(out->str, -1) < max_chars;
         p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (!input_name_char(c))
            g_string_append_c(out, '_');
        else
            g_string_append_unichar(out, c);
    }
    return g_string_free(out, FALSE);
}

int tus_metadata_parse(const char *header, json_t *out, struct err *err)
{
    if (!header || !*header)
        return 0;
    if (strlen(header) > TUS_METADATA_MAX_BYTES)
        return err_set(err, 400, "invalid_metadata", NULL, _("Upload-Metadata is too long."));
    gchar **pairs = g_strsplit(header, ",", 64);
    int rc = 0;
    for (int i = 0; rc == 0 && pairs[i]; i++) {
        char *pair = g_strstrip(pairs[i]);
        char *space = strchr(pair, ' ');
        if (space)
            *space = '\0';
        const char *key = pair, *value = space ? g_strstrip(space + 1) : "";
        if (!*key || strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
                         strlen(key) || json_object_get(out, key)) {
            rc = err_set(err, 400, "invalid_metadata", NULL, _("Upload-Metadata is not valid."));
            break;
        }
        gsize len = 0;
        guchar *decoded = *value ? g_base64_decode(value, &len) : (guchar *)g_strdup("");
        char *text = g_strndup((const char *)decoded, len);
        if (strlen(text) != len || !g_utf8_validate(text, -1, NULL))
            rc = err_set(err, 400, "invalid_metadata", key,
                         _("Upload-Metadata values must be base64 of UTF-8 text."));
        else
            json_object_set_new(out, key, json_string(text));
        g_free(text);
        g_free(decoded);
    }
    g_strfreev(pairs);
    return rc;
}

int tus_checksum_parse(const char *header, char **algorithm, const char **digest,
                       struct err *err)
{
    static const char *const algorithms[] = { "md5", "sha1", "sha256", NULL };
    const char *space = strchr(header, ' ');
    *algorithm = space ? g_strndup(header, (gsize)(space - header)) : NULL;
    *digest = space ? space + 1 : NULL;
    bool known = false;
    for (const char *const *a = algorithms; *algorithm && *a; a++)
        known = known || !strcmp(*algorithm, *a);
    int rc = 0;
    if (!known)
        rc = err_set(err, 400, "checksum_algorithm", NULL,
                     _("Upload-Checksum must use md5, sha1 or sha256."));
    else if (!**digest || strlen(*digest) > 128 ||
             strspn(*digest, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
                 strlen(*digest))
        rc = err_set(err, 400, "invalid_checksum", NULL, _("Upload-Checksum is not valid base64."));
    if (rc < 0) {
        g_free(*algorithm);
        *algorithm = NULL;
        *digest = NULL;
    }
    return rc;
}
