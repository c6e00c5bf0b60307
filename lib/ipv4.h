/* IPv4 addresses and CIDR blocks as the network and IP pool code reads
 * them: strict dotted quads (no octal, no short forms), a prefix 8-30. */
#ifndef VMM_IPV4_H
#define VMM_IPV4_H

#include <stdbool.h>
#include <stdint.h>

struct cidr {
    uint32_t net;      /* host order, host bits zero */
    int prefix;
};

/* A dotted quad into *out (host order): 0, or -1. */
int ipv4_parse(const char *text, uint32_t *out);
/* "a.b.c.d" into buf (16 bytes at least); returns buf. */
char *ipv4_format(uint32_t ip, char *buf);
/* "a.b.c.d/n" with the host bits zero and n in 8..30: 0, or -1. */
int cidr_parse(const char *text, struct cidr *out);
uint32_t cidr_mask(const struct cidr *c);
bool cidr_contains(const struct cidr *c, uint32_t ip);
bool cidr_overlap(const struct cidr *a, const struct cidr *b);
/* The first and last usable host addresses (network and broadcast excluded). */
uint32_t cidr_first_host(const struct cidr *c);
uint32_t cidr_last_host(const struct cidr *c);

/* A name libvirt (and the dnsmasq it runs) takes for a network or pool:
 * 1-48 letters, digits, '-', '_', '.', starting with a letter or digit. */
bool net_name_valid(const char *name);
/* A DNS domain for a network: labels of [a-z0-9-] joined by dots, 1-64. */
bool net_domain_valid(const char *domain);

#endif
