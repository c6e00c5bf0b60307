#include "token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

static void hex_encode(const unsigned char *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0xf];
    }
    out[2 * n] = '\0';
}

int token_new(char out[TOKEN_HEX_LEN + 1])
{
    unsigned char bytes[TOKEN_BYTES];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        return -1;
    hex_encode(bytes, sizeof bytes, out);
    OPENSSL_cleanse(bytes, sizeof bytes);
    return 0;
}

int token_password(char *out, size_t len)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t n = 0;
    while (n < len) {
        unsigned char byte;
        if (RAND_bytes(&byte, 1) != 1)
            return -1;
        /* 248 = 4 * 62: rejecting the rest keeps every character equally likely. */
        if (byte < 248)
            out[n++] = alphabet[byte % 62];
    }
    out[len] = '\0';
    return 0;
}

void token_digest(const char *text, char out[TOKEN_HEX_LEN + 1])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL);
    hex_encode(md, 32, out);
}

bool token_equal(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return false;
    return CRYPTO_memcmp(a, b, la) == 0;
}

bool token_well_formed(const char *text)
{
    if (!text || strlen(text) != TOKEN_HEX_LEN)
        return false;
    for (const char *p = text; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int token_from_protocols(const char *header, const char *prefix, char out[TOKEN_HEX_LEN + 1])
{
    size_t plen = strlen(prefix);
    int found = 0;
    for (const char *p = header; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, ", \t");
        if (n == plen + TOKEN_HEX_LEN && !strncmp(p, prefix, plen)) {
            char candidate[TOKEN_HEX_LEN + 1];
            memcpy(candidate, p + plen, TOKEN_HEX_LEN);
            candidate[TOKEN_HEX_LEN] = '\0';
            if (!token_well_formed(candidate) || found++)
                return -1;
            memcpy(out, candidate, sizeof candidate);
        } else if (n >= plen && !strncmp(p, prefix, plen)) {
            return -1;
        }
        p += n;
    }
    return found == 1 ? 0 : -1;
}
