#include "ipv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ipv4_parse(const char *text, uint32_t *out)
{
    uint32_t ip = 0;
    const char *p = text;
    if (!text)
        return -1;
    for (int part = 0; part < 4; part++) {
        if (*p < '0' || *p > '9')
            return -1;
        /* No leading zeros: "010" means 8 to some parsers and 10 to others. */
        if (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
            return -1;
        unsigned value = 0;
        int digits = 0;
        for (; *p >= '0' && *p <= '9' && digits < 4; p++, digits++)
            value = value * 10 + (unsigned)(*p - '0');
        if (digits > 3 || value > 255)
            return -1;
        ip = ip << 8 | value;
        if (part < 3 && *p++ != '.')
            return -1;
    }
    if (*p)
        return -1;
    *out = ip;
    return 0;
}

char *ipv4_format(uint32_t ip, char *buf)
{
    snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
    return buf;
}

uint32_t cidr_mask(const struct cidr *c)
{
    return c->prefix <= 0 ? 0 : 0xffffffffu << (32 - c->prefix);
}

int cidr_parse(const char *text, struct cidr *out)
{
    const char *slash = text ? strchr(text, '/') : NULL;
    if (!slash || slash - text > 15 || !slash[1] || strlen(slash + 1) > 2)
        return -1;
    char addr[16];
    memcpy(addr, text, (size_t)(slash - text));
    addr[slash - text] = '\0';
    char *end;
    long prefix = strtol(slash + 1, &end, 10);
    if (*end || slash[1] < '0' || slash[1] > '9' || prefix < 8 || prefix > 30)
        return -1;
    struct cidr c = { 0, (int)prefix };
    if (ipv4_parse(addr, &c.net) < 0 || (c.net & ~cidr_mask(&c)) != 0)
        return -1;
    *out = c;
    return 0;
}

bool cidr_contains(const struct cidr *c, uint32_t ip)
{
    return (ip & cidr_mask(c)) == c->net;
}

bool cidr_overlap(const struct cidr *a, const struct cidr *b)
{
    const struct cidr *wider = a->prefix <= b->prefix ? a : b;
    const struct cidr *narrower = wider == a ? b : a;
    return cidr_contains(wider, narrower->net);
}

uint32_t cidr_first_host(const struct cidr *c)
{
    return c->net + 1;
}

uint32_t cidr_last_host(const struct cidr *c)
{
    return (c->net | ~cidr_mask(c)) - 1;
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool net_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > 48 || !name_char(name[0]))
        return false;
    for (const char *c = name; *c; c++)
        if (!name_char(*c) && *c != '-' && *c != '_' && *c != '.')
            return false;
    return true;
}

bool net_domain_valid(const char *domain)
{
    size_t n = domain ? strlen(domain) : 0;
    if (n < 1 || n > 64 || domain[0] == '.' || domain[n - 1] == '.' || domain[0] == '-')
        return false;
    for (const char *c = domain; *c; c++) {
        bool lower = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-';
        if (!lower && !(*c == '.' && c[1] != '.' && c[1] != '-'))
            return false;
    }
    return true;
}
