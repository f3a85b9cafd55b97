/* ze C helper: hugepage buffer pool, framed socket reads, NLRI walks, TCP-MD5 and GTSM.
 * Plain C, no Python API; wrapped by cffi (ze/_native/_build.py). */
#ifndef ZEC_H
#define ZEC_H
#include <stddef.h>
#include <stdint.h>

/* What zec_map got. */
#define ZEC_MAP_PLAIN 0
#define ZEC_MAP_THP 1     /* anonymous memory advised MADV_HUGEPAGE */
#define ZEC_MAP_HUGETLB 2 /* MAP_HUGETLB from the reserved pool */

/* read status */
#define ZEC_DATA 0  /* read some bytes (socket drained or buffer full) */
#define ZEC_AGAIN 1 /* nothing to read */
#define ZEC_EOF 2   /* peer closed */

/* One receive buffer: bytes [start, end) are read but not yet framed. */
typedef struct {
    uint8_t *base;
    uint32_t cap;
    uint32_t start;
    uint32_t end;
    uint64_t consumed;    /* stream bytes dropped before base[0] (for stream offsets in errors) */
    int status;           /* ZEC_DATA / ZEC_AGAIN / ZEC_EOF of the last read */
    int pending_errno;    /* a recv error seen after data was read, reported on the next call */
    uint32_t nread;       /* bytes read by the last call */
    /* header error of the last call (err_code 0: none) */
    int err_code;
    int err_subcode;
    uint64_t err_offset;  /* stream offset */
    uint32_t err_value;   /* bad length or bad type */
    int err_len;          /* bytes of NOTIFICATION data: 0, 1 (type) or 2 (length) */
    int err_type;         /* message type when the length was bad */
} zec_buf;

void *zec_map(size_t len, int allow_hugetlb, int *kind);
int zec_unmap(void *p, size_t len);

/* Frame whole messages in b; writes (offset, length, type) triples to out; returns their count. */
int zec_frame(zec_buf *b, int extended, uint32_t *out, uint32_t maxout);
/* Make room, read what fd has (MSG_DONTWAIT), then zec_frame. Returns the frame count, or -errno. */
int zec_read_frames(int fd, zec_buf *b, int extended, uint32_t *out, uint32_t maxout);
/* Copy len bytes in (making room first), then zec_frame. Returns count, or -1 if they do not fit. */
int zec_feed_frames(zec_buf *b, const uint8_t *data, uint32_t len, int extended, uint32_t *out,
                    uint32_t maxout);

/* NLRI walk errors */
#define ZEC_NLRI_PATHID_OVERRUN 1
#define ZEC_NLRI_END_AFTER_PATHID 2
#define ZEC_NLRI_BAD_LENGTH 3
#define ZEC_NLRI_OVERRUN 4
typedef struct {
    int kind;
    uint64_t offset;
    int plen;
} zec_nlri_err;
/* ipv4: (path_id, length, value); ipv6: (path_id, length, hi, lo). path_id 0 without ADD-PATH.
 * Returns the count of u64 written, or -1 with err set. */
int64_t zec_walk_nlri(const uint8_t *data, size_t start, size_t end, int ipv6, int addpath, uint64_t *out,
                      zec_nlri_err *err);

/* Socket security: 0 or -errno. */
int zec_tcp_md5(int fd, int family, const uint8_t *addr, int prefix_len, int ifindex, const uint8_t *key,
                int keylen, int *option);
int zec_gtsm(int fd, int family, int hops, int *option);
#endif
