#include "password.h"

#include <glib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
