/*
 * client.h - where a request really comes from, behind proxies.
 *
 * Three sources, each believed only from whom it may come: the socket's
 * peer; a PROXY protocol header (v1 text or v2 binary), read before HTTP
 * on a listener that asks for it; X-Forwarded-For or RFC 7239 Forwarded,
 * from a peer inside trusted_proxies. Pure functions over bytes and
 * addresses: conn.c does the reading.
 */
#ifndef CLIENT_H
#define CLIENT_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

/* One trusted_proxies entry: an address block, or every unix peer. */
struct client_cidr {
	int		 family;	/* AF_INET, AF_INET6, AF_UNIX (all) */
	unsigned char	 addr[16];	/* network byte order, masked */
	unsigned	 prefix;	/* bits */
};

/*
 * Parse "10.0.0.0/8", "192.0.2.7" (a /32), "fd00::/8", "::1" or "unix".
 * Returns 0, or -1 with the reason in err.
 */
int	client_cidr_parse(const char *text, struct client_cidr *c, char *err,
	    size_t errlen);

/* Is sa inside one of the n blocks? */
int	client_cidr_match(const struct client_cidr *v, size_t n,
	    const struct sockaddr *sa);

/* The longest PROXY header read (v2 with TLVs up to this size). */
#define CLIENT_PROXY_MAX	1024

/*
 * A PROXY protocol header at the start of buf[0..len): the bytes it takes
 * (> 0), with *ss the client it names, or ss_family AF_UNSPEC when it
 * names none (v1 UNKNOWN, v2 LOCAL: a balancer's own health check; keep
 * the peer); 0 when more bytes are needed; -1 when it is not a valid
 * header (the connection is closed unserved).
 */
ssize_t	client_proxy_parse(const void *buf, size_t len,
	    struct sockaddr_storage *ss, socklen_t *sslen);

/*
 * From a trusted peer: the client named by the X-Forwarded-For values
 * (every header, in order; or, when there is none, the RFC 7239
 * Forwarded values' for=): the rightmost address that is not itself
 * trusted, or the leftmost when all are. An entry that is no address
 * ("unknown", an obfuscated name, garbage) stops the walk: the last
 * address found stands. Returns 1 with *ss set, 0 when the headers name
 * no usable address (the peer stands).
 */
int	client_forwarded(const char *const *xff, size_t nxff,
	    const char *const *fwd, size_t nfwd,
	    const struct client_cidr *trusted, size_t ntrusted,
	    struct sockaddr_storage *ss);

#endif /* CLIENT_H */
