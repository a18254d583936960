/* The `dns` option of OpenVPN 2.7 (options.c check_dns_option, dns.c),
 * shared by the config loader and the PUSH_REPLY parser:
 *
 *   dns search-domains DOMAIN...
 *   dns server N address ADDR[:PORT] | [ADDR6]:PORT | ADDR6 ...
 *   dns server N resolve-domains DOMAIN...
 *   dns server N dnssec yes|no|optional
 *   dns server N transport plain|DoH|DoT
 *   dns server N sni DOMAIN
 *
 * N is -128..127 in a config and 0..127 when pushed. Lines for the same N
 * fill the same server; servers are kept sorted by N. Pure: no I/O.
 */
#ifndef LVPN_LIB_DNS_OPT_H
#define LVPN_LIB_DNS_OPT_H

#include <stdbool.h>
#include <stddef.h>

#include "layervpn.h"

/* One `dns` option's arguments (without "dns"), `n` of them, into `d`.
 * Returns 0, or LVPN_ECONFIG with a message naming the problem in `err`
 * (`d` may then hold part of the line). */
int lvpn__dns_opt_parse(lvpn_dns_t *d, char *const *args, int n, bool pulled,
                        char *err, size_t errlen);
/* OpenVPN's dns_options_verify: every server has an address. 0, or
 * LVPN_ECONFIG + err. */
int lvpn__dns_opt_verify(const lvpn_dns_t *d, char *err, size_t errlen);
/* A domain name OpenVPN's validate_domain() accepts, restricted to ASCII
 * (letters, digits, '-', '.', '_'), non-empty, shorter than
 * LVPN_DNS_DOMAIN_LEN. */
bool lvpn__dns_domain_ok(const char *s);
/* "198.18.0.53", "198.18.0.53:5353", "2001:2::53", "[2001:2::53]:5353"
 * (port only when not 0 or 53) into buf (>= 64 bytes). */
const char *lvpn__dns_addr_str(const lvpn_dns_addr_t *a, char *buf,
                               size_t len);

#endif
