#include "password.h"

#include <glib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <pwquality.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "log.h"

/* N=2^15, r=8: 32 MiB and ~60 ms per hash on the test machines. */
enum { SCRYPT_N = 1 << 15, SCRYPT_R = 8, SCRYPT_P = 1, SALT_LEN = 16, KEY_LEN = 32 };
#define SCRYPT_MAXMEM (64ULL * 1024 * 1024)

static int scrypt_derive(const char *password, const unsigned char *salt, size_t salt_len,
                         unsigned long long n, unsigned long long r, unsigned long long p,
                         unsigned char key[KEY_LEN])
{
    int ok = EVP_PBE_scrypt(password, strlen(password), salt, salt_len, n, r, p,
                            SCRYPT_MAXMEM, key, KEY_LEN);
    return ok == 1 ? 0 : -1;
}

int password_hash(const char *password, char out[PASSWORD_HASH_MAX])
{
    unsigned char salt[SALT_LEN], key[KEY_LEN];
    int rc = -1;

    if (RAND_bytes(salt, sizeof salt) != 1)
        return -1;
    if (scrypt_derive(password, salt, sizeof salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, key) < 0)
        return -1;

    char *salt64 = g_base64_encode(salt, sizeof salt);
    char *key64 = g_base64_encode(key, sizeof key);
    int n = snprintf(out, PASSWORD_HASH_MAX, "scrypt$%d$%d$%d$%s$%s",
                     SCRYPT_N, SCRYPT_R, SCRYPT_P, salt64, key64);
    if (n > 0 && n < PASSWORD_HASH_MAX)
        rc = 0;
    g_free(salt64);
    g_free(key64);
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

bool password_verify(const char *password, const char *encoded)
{
    unsigned long long n, r, p;
    char salt64[64], key64[64];
    bool match = false;

    if (!password || !encoded)
        return false;
    if (sscanf(encoded, "scrypt$%llu$%llu$%llu$%63[^$]$%63s", &n, &r, &p, salt64, key64) != 5)
        return false;
    /* Refuse parameters a tampered row could use to exhaust memory. */
    if (n < 2 || n > (1 << 20) || (n & (n - 1)) || r < 1 || r > 32 || p < 1 || p > 16)
        return false;

    gsize salt_len = 0, stored_len = 0;
    guchar *salt = g_base64_decode(salt64, &salt_len);
    guchar *stored = g_base64_decode(key64, &stored_len);
    unsigned char key[KEY_LEN];

    if (stored_len == KEY_LEN && salt_len > 0 &&
        scrypt_derive(password, salt, salt_len, n, r, p, key) == 0)
        match = CRYPTO_memcmp(key, stored, KEY_LEN) == 0;

    OPENSSL_cleanse(key, sizeof key);
    g_free(salt);
    g_free(stored);
    return match;
}

/* Read once per process: the system's policy, never below our minimum. */
static pwquality_settings_t *quality_settings(void)
{
    static pwquality_settings_t *settings;
    if (settings)
        return settings;
    settings = pwquality_default_settings();
    if (!settings)
        return NULL;
    void *aux = NULL;
    int rc = pwquality_read_config(settings, NULL, &aux);
    if (rc != 0 && rc != PWQ_ERROR_CFGFILE_OPEN) {
        char text[PWQ_MAX_ERROR_MESSAGE_LEN];
        log_warn("pwquality.conf: %s; using the defaults",
                 pwquality_strerror(text, sizeof text, rc, aux));
    }
    int min = 0;
    if (pwquality_get_int_value(settings, PWQ_SETTING_MIN_LENGTH, &min) == 0 &&
        min < PASSWORD_MIN_LEN)
        pwquality_set_int_value(settings, PWQ_SETTING_MIN_LENGTH, PASSWORD_MIN_LEN);
    return settings;
}

/* Our own words for libpwquality's verdicts, so they are translated with
 * the rest of the page. */
static void quality_reason(int rc, int min_length, char reason[PASSWORD_REASON_MAX])
{
    switch (rc) {
    case PWQ_ERROR_EMPTY_PASSWORD:
        snprintf(reason, PASSWORD_REASON_MAX, "%s", _("Enter a password."));
        return;
    case PWQ_ERROR_MIN_LENGTH:
        snprintf(reason, PASSWORD_REASON_MAX, _("The password must be at least %d characters long."),
                 min_length);
        return;
    case PWQ_ERROR_CRACKLIB_CHECK:
        snprintf(reason, PASSWORD_REASON_MAX, "%s",
                 _("This password is too common or too simple (a dictionary word, or too few "
                   "different characters). Choose another."));
        return;
    case PWQ_ERROR_USER_CHECK:
    case PWQ_ERROR_GECOS_CHECK:
        snprintf(reason, PASSWORD_REASON_MAX, "%s", _("The password must not contain the user name."));
        return;
    case PWQ_ERROR_PALINDROME:
        snprintf(reason, PASSWORD_REASON_MAX, "%s", _("The password must not be a palindrome."));
        return;
    case PWQ_ERROR_SAME_PASSWORD:
    case PWQ_ERROR_TOO_SIMILAR:
    case PWQ_ERROR_CASE_CHANGES_ONLY:
    case PWQ_ERROR_ROTATED:
        snprintf(reason, PASSWORD_REASON_MAX, "%s",
                 _("The new password is too much like the current one."));
        return;
    case PWQ_ERROR_MAX_CONSECUTIVE:
    case PWQ_ERROR_MAX_CLASS_REPEAT:
    case PWQ_ERROR_MAX_SEQUENCE:
        snprintf(reason, PASSWORD_REASON_MAX, "%s",
                 _("The password repeats a character or a sequence too often."));
        return;
    case PWQ_ERROR_MIN_DIGITS:
    case PWQ_ERROR_MIN_UPPERS:
    case PWQ_ERROR_MIN_LOWERS:
    case PWQ_ERROR_MIN_OTHERS:
    case PWQ_ERROR_MIN_CLASSES:
        snprintf(reason, PASSWORD_REASON_MAX, "%s",
                 _("The password needs more kinds of characters: capital and small letters, "
                   "digits, symbols."));
        return;
    case PWQ_ERROR_BAD_WORDS:
        snprintf(reason, PASSWORD_REASON_MAX, "%s", _("The password contains a forbidden word."));
        return;
    default:
        snprintf(reason, PASSWORD_REASON_MAX, "%s", _("This password is too weak. Choose another."));
    }
}

bool password_strong(const char *password, const char *username, const char *old,
                     char reason[PASSWORD_REASON_MAX])
{
    pwquality_settings_t *settings = quality_settings();
    if (!settings) {
        snprintf(reason, PASSWORD_REASON_MAX, "%s", _("This password is too weak. Choose another."));
        return false;
    }
    void *aux = NULL;
    int rc = pwquality_check(settings, password ? password : "", old, username, &aux);
    if (rc >= 0)
        return true;
    if (rc == PWQ_ERROR_CRACKLIB_CHECK && aux && strstr((const char *)aux, "dictionary") &&
        strstr((const char *)aux, "error")) {
        /* No dictionary (cracklib-runtime missing): say so in the log,
         * where an admin can mend it. */
        log_error("cracklib: %s (install cracklib-runtime)", (const char *)aux);
    }
    int min = PASSWORD_MIN_LEN;
    pwquality_get_int_value(settings, PWQ_SETTING_MIN_LENGTH, &min);
    quality_reason(rc, min, reason);
    return false;
}
