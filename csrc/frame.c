/* BGP message framing over a receive buffer (RFC 4271 section 4.1, 6.1; RFC 8654 lengths). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "zec.h"

#define HEADER_LEN 19

/* Smallest legal length per type 1..5 (RFC 4271 4.2-4.5, RFC 2918). */
static const uint16_t min_len[6] = {0, 29, 23, 21, 19, 19}; /* RR: RFC 7313 wants 7/1, not 1/2 */

static uint32_t max_len(int extended)
{
    return extended ? 65535 : 4096;
}

static void make_room(zec_buf *b, int extended)
{
    if (b->start == b->end) {
        b->consumed += b->start;
        b->start = b->end = 0;
        return;
    }
    if (b->start > 0 && (b->cap - b->end < b->cap / 4 || b->cap - b->start < max_len(extended))) {
        uint32_t n = b->end - b->start;
        memmove(b->base, b->base + b->start, n);
        b->consumed += b->start;
        b->start = 0;
        b->end = n;
    }
}

static int set_error(zec_buf *b, int subcode, uint32_t at, uint32_t value, int len, int mtype)
{
    b->err_code = 1;
    b->err_subcode = subcode;
    b->err_offset = b->consumed + at;
    b->err_value = value;
    b->err_len = len;
    b->err_type = mtype;
    return 0;
}

int zec_frame(zec_buf *b, int extended, uint32_t *out, uint32_t maxout)
{
    static const uint8_t marker[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const uint8_t *base = b->base;
    uint32_t pos = b->start, end = b->end, n = 0;
    b->err_code = 0;
    while (end - pos >= HEADER_LEN && n < maxout) {
        const uint8_t *h = base + pos;
        if (memcmp(h, marker, 16) != 0) {
            set_error(b, 1, pos, 0, 0, 0);
            break;
        }
        uint32_t length = ((uint32_t)h[16] << 8) | h[17];
        uint8_t mtype = h[18];
        if (mtype < 1 || mtype > 5) {
            set_error(b, 3, pos + 18, mtype, 1, mtype);
            break;
        }
        uint32_t limit = (extended && mtype != 1 && mtype != 4) ? 65535 : 4096;
        if (length < min_len[mtype] || length > limit || (mtype == 4 && length != HEADER_LEN)) {
            set_error(b, 2, pos + 16, length, 2, mtype);
            break;
        }
        if (end - pos < length)
            break;
        out[3 * n] = pos;
        out[3 * n + 1] = length;
        out[3 * n + 2] = mtype;
        n++;
        pos += length;
    }
    b->start = pos;
    return (int)n;
}

int zec_read_frames(int fd, zec_buf *b, int extended, uint32_t *out, uint32_t maxout)
{
    if (b->pending_errno) {
        int e = b->pending_errno;
        b->pending_errno = 0;
        return -e;
    }
    make_room(b, extended);
    b->nread = 0;
    b->status = ZEC_DATA;
    for (;;) {
        size_t room = b->cap - b->end;
        if (room == 0)
            break;
        ssize_t r = recv(fd, b->base + b->end, room, MSG_DONTWAIT);
        if (r > 0) {
            b->end += (uint32_t)r;
            b->nread += (uint32_t)r;
            if ((size_t)r < room)
                break;
            continue;
        }
        if (r == 0) {
            b->status = ZEC_EOF;
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (b->nread == 0)
                b->status = ZEC_AGAIN;
            break;
        }
        if (b->nread == 0)
            return -errno;
        b->pending_errno = errno; /* frame what came first; report the error on the next call */
        break;
    }
    return zec_frame(b, extended, out, maxout);
}

int zec_feed_frames(zec_buf *b, const uint8_t *data, uint32_t len, int extended, uint32_t *out,
                    uint32_t maxout)
{
    make_room(b, extended);
    if (len > b->cap - b->end)
        return -1;
    memcpy(b->base + b->end, data, len);
    b->end += len;
    b->nread = len;
    b->status = len ? ZEC_DATA : ZEC_AGAIN;
    return zec_frame(b, extended, out, maxout);
}
