/* Socket security: TCP-MD5 signatures (RFC 2385) and GTSM (RFC 5082). */
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "zec.h"

#ifndef IP_MINTTL
#define IP_MINTTL 21
#endif
#ifndef IPV6_MINHOPCOUNT
#define IPV6_MINHOPCOUNT 73
#endif

/* option codes reported back to Python (names in ze/_native/common.py) */
enum { OPT_MD5 = 1, OPT_MD5_EXT = 2, OPT_IP_TTL = 3, OPT_IP_MINTTL = 4, OPT_V6_HOPS = 5, OPT_V6_MINHOPS = 6 };

/* addr: 4 bytes (AF_INET) or 16 bytes (AF_INET6), network order. prefix_len/ifindex < 0: not given. */
int zec_tcp_md5(int fd, int family, const uint8_t *addr, int prefix_len, int ifindex, const uint8_t *key,
                int keylen, int *option)
{
    struct tcp_md5sig sig;
    memset(&sig, 0, sizeof(sig));
    if (keylen < 0 || keylen > TCP_MD5SIG_MAXKEYLEN) {
        *option = OPT_MD5;
        return -EINVAL;
    }
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&sig.tcpm_addr;
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, addr, 4);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&sig.tcpm_addr;
        sin6->sin6_family = AF_INET6;
        memcpy(&sin6->sin6_addr, addr, 16);
    }
    int opt = TCP_MD5SIG;
    if (prefix_len >= 0) {
        sig.tcpm_flags |= TCP_MD5SIG_FLAG_PREFIX;
        sig.tcpm_prefixlen = (uint8_t)prefix_len;
        opt = TCP_MD5SIG_EXT;
    }
    if (ifindex >= 0) {
        sig.tcpm_flags |= TCP_MD5SIG_FLAG_IFINDEX;
        sig.tcpm_ifindex = ifindex;
        opt = TCP_MD5SIG_EXT;
    }
    sig.tcpm_keylen = (uint16_t)keylen;
    memcpy(sig.tcpm_key, key, (size_t)keylen);
    *option = opt == TCP_MD5SIG ? OPT_MD5 : OPT_MD5_EXT;
    if (setsockopt(fd, IPPROTO_TCP, opt, &sig, sizeof(sig)) < 0)
        return -errno;
    *option = 0;
    return 0;
}

static int set_int(int fd, int level, int name, int value, int code, int *option)
{
    if (setsockopt(fd, level, name, &value, sizeof(value)) < 0) {
        *option = code;
        return -errno;
    }
    return 0;
}

/* hops 1..255: send with TTL 255, accept only TTL >= 256 - hops. hops 0: back to defaults. */
int zec_gtsm(int fd, int family, int hops, int *option)
{
    int ttl = hops ? 255 : -1, min = hops ? 256 - hops : 0, r;
    *option = 0;
    if (hops < 0 || hops > 255) {
        *option = OPT_IP_MINTTL;
        return -EINVAL;
    }
    if (family == AF_INET6) {
        if ((r = set_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl, OPT_V6_HOPS, option)) < 0)
            return r;
        if ((r = set_int(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, min, OPT_V6_MINHOPS, option)) < 0)
            return r;
    }
    /* On an AF_INET6 socket these cover IPv4-mapped peers. */
    if ((r = set_int(fd, IPPROTO_IP, IP_TTL, ttl, OPT_IP_TTL, option)) < 0)
        return r;
    return set_int(fd, IPPROTO_IP, IP_MINTTL, min, OPT_IP_MINTTL, option);
}
