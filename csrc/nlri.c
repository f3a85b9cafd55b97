/* Walk packed NLRI (RFC 4271 4.3; ADD-PATH path ids, RFC 7911 section 3) into a flat u64 array. */
#include <string.h>

#include "zec.h"

static uint64_t be64(const uint8_t *p)
{
    return ((uint64_t)p[0] << 56) | ((uint64_t)p[1] << 48) | ((uint64_t)p[2] << 40) | ((uint64_t)p[3] << 32) |
           ((uint64_t)p[4] << 24) | ((uint64_t)p[5] << 16) | ((uint64_t)p[6] << 8) | (uint64_t)p[7];
}

static int64_t fail(zec_nlri_err *err, int kind, size_t offset, int plen)
{
    err->kind = kind;
    err->offset = offset;
    err->plen = plen;
    return -1;
}

int64_t zec_walk_nlri(const uint8_t *data, size_t start, size_t end, int ipv6, int addpath, uint64_t *out,
                      zec_nlri_err *err)
{
    const unsigned width = ipv6 ? 128 : 32;
    size_t pos = start;
    int64_t n = 0;
    while (pos < end) {
        uint64_t path_id = 0;
        if (addpath) {
            if (pos + 4 > end)
                return fail(err, ZEC_NLRI_PATHID_OVERRUN, pos, 0);
            path_id = ((uint64_t)data[pos] << 24) | ((uint64_t)data[pos + 1] << 16) |
                      ((uint64_t)data[pos + 2] << 8) | data[pos + 3];
            pos += 4;
            if (pos >= end)
                return fail(err, ZEC_NLRI_END_AFTER_PATHID, pos, 0);
        }
        unsigned plen = data[pos];
        if (plen > width)
            return fail(err, ZEC_NLRI_BAD_LENGTH, pos, (int)plen);
        size_t nbytes = (plen + 7) >> 3;
        if (pos + 1 + nbytes > end)
            return fail(err, ZEC_NLRI_OVERRUN, pos, (int)plen);
        const uint8_t *p = data + pos + 1;
        out[n++] = path_id;
        out[n++] = plen;
        if (!ipv6) {
            uint32_t v = 0;
            for (size_t i = 0; i < nbytes; i++)
                v |= (uint32_t)p[i] << (24 - 8 * i);
            if (plen < 32)
                v &= plen ? ~((1u << (32 - plen)) - 1) : 0;
            out[n++] = v;
        } else {
            uint8_t a[16] = {0};
            memcpy(a, p, nbytes);
            uint64_t hi = be64(a), lo = be64(a + 8);
            if (plen < 64) {
                hi &= plen ? ~((1ull << (64 - plen)) - 1) : 0;
                lo = 0;
            } else if (plen < 128) {
                lo &= plen > 64 ? ~((1ull << (128 - plen)) - 1) : 0;
            }
            out[n++] = hi;
            out[n++] = lo;
        }
        pos += 1 + nbytes;
    }
    return n;
}
