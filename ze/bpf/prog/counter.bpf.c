/* ze forwarding counters: count packets and bytes per peer whose route carries them.
 *
 * One source, two entry points: ze_xdp (XDP, native or generic) and ze_tc (tc clsact,
 * ingress or egress, direct action). Both parse Ethernet with up to two VLAN tags, then
 * IPv4 or IPv6, look the destination up in an LPM trie (prefix -> peer index, prefix
 * length, next hop) and add to per-CPU counters for that peer index. Optionally (config
 * flag) they also count per matched prefix in a bounded LRU hash. They never drop or
 * change a packet: every path returns pass.
 *
 * Maps are pinned under ZE_PIN_DIR (a -D from the loader); BPF_TABLE_PINNED reuses a map
 * already pinned there, so counters survive a reload of the programs.
 */
#include <uapi/linux/bpf.h>
#include <uapi/linux/if_ether.h>
#include <uapi/linux/ip.h>
#include <uapi/linux/ipv6.h>
#include <uapi/linux/pkt_cls.h>

#ifndef ZE_MAX_PEERS
#define ZE_MAX_PEERS 4096
#endif
#ifndef ZE_MAX_ROUTES
#define ZE_MAX_ROUTES 2000000
#endif
#ifndef ZE_MAX_TOP
#define ZE_MAX_TOP 65536
#endif

#define ZE_MISC_UNMATCHED 0 /* IPv4/IPv6 with no matching prefix */
#define ZE_MISC_OTHER 1     /* not IP (ARP ...), or too short to parse */
#define ZE_FLAG_PER_PREFIX 1

struct ze_lpm4 {
    u32 prefixlen;
    u8 addr[4];
};
struct ze_lpm6 {
    u32 prefixlen;
    u8 addr[16];
};
struct ze_route {
    u32 peer;      /* index into ze_peer */
    u16 prefixlen; /* the matched prefix's length (LPM lookups do not return it) */
    u8 nh_family;  /* 4, 6, or 0 when the route has no next hop */
    u8 pad;
    u8 nexthop[16];
};
struct ze_count {
    u64 packets;
    u64 bytes;
};
struct ze_top_key {
    u32 family; /* 4 or 6 */
    u32 prefixlen;
    u8 addr[16];
};

BPF_TABLE_PINNED("lpm_trie", struct ze_lpm4, struct ze_route, ze_v4, ZE_MAX_ROUTES, ZE_PIN_DIR "/ze_v4", BPF_F_NO_PREALLOC);
BPF_TABLE_PINNED("lpm_trie", struct ze_lpm6, struct ze_route, ze_v6, ZE_MAX_ROUTES, ZE_PIN_DIR "/ze_v6", BPF_F_NO_PREALLOC);
BPF_TABLE_PINNED("percpu_array", u32, struct ze_count, ze_peer, ZE_MAX_PEERS, ZE_PIN_DIR "/ze_peer");
BPF_TABLE_PINNED("percpu_array", u32, struct ze_count, ze_misc, 2, ZE_PIN_DIR "/ze_misc");
BPF_TABLE_PINNED("lru_percpu_hash", struct ze_top_key, struct ze_count, ze_top, ZE_MAX_TOP, ZE_PIN_DIR "/ze_top");
BPF_TABLE_PINNED("array", u32, u32, ze_config, 1, ZE_PIN_DIR "/ze_config");

static __always_inline void ze_add(struct ze_count *c, u64 pkts, u64 len)
{
    if (c) {
        c->packets += pkts;
        c->bytes += len;
    }
}

static __always_inline void ze_misc_add(u32 slot, u64 pkts, u64 len)
{
    ze_add(ze_misc.lookup(&slot), pkts, len);
}

static __always_inline void ze_top_add(struct ze_top_key *k, u64 pkts, u64 len)
{
    struct ze_count *c = ze_top.lookup(k);
    if (c) {
        ze_add(c, pkts, len);
        return;
    }
    struct ze_count first = {pkts, len};
    ze_top.update(k, &first);
}

static __always_inline int ze_per_prefix(void)
{
    u32 zero = 0;
    u32 *flags = ze_config.lookup(&zero);
    return flags && (*flags & ZE_FLAG_PER_PREFIX);
}

/* Count one frame spanning [data, data_end) as pkts packets (more than one for a GSO/GRO skb)
 * and len bytes. */
static __always_inline void ze_count(void *data, void *data_end, u64 pkts, u64 len)
{
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end) {
        ze_misc_add(ZE_MISC_OTHER, pkts, len);
        return;
    }
    u16 proto = eth->h_proto;
    void *l3 = eth + 1;
#pragma unroll
    for (int i = 0; i < 2; i++) {
        if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
            /* tag: 2 bytes TCI, then 2 bytes inner ethertype */
            if (l3 + 4 > data_end) {
                ze_misc_add(ZE_MISC_OTHER, pkts, len);
                return;
            }
            proto = *(u16 *)(l3 + 2);
            l3 += 4;
        }
    }

    struct ze_route *r = 0;
    struct ze_top_key top = {};
    if (proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = l3;
        if ((void *)(ip + 1) > data_end) {
            ze_misc_add(ZE_MISC_OTHER, pkts, len);
            return;
        }
        struct ze_lpm4 k = {32};
        __builtin_memcpy(k.addr, &ip->daddr, 4);
        r = ze_v4.lookup(&k);
        if (r && r->prefixlen <= 32 && ze_per_prefix()) {
            u32 d = bpf_ntohl(ip->daddr);
            u32 mask = r->prefixlen ? 0xffffffffU << (32 - r->prefixlen) : 0;
            u32 net = bpf_htonl(d & mask);
            top.family = 4;
            top.prefixlen = r->prefixlen;
            __builtin_memcpy(top.addr, &net, 4);
        }
    } else if (proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = l3;
        if ((void *)(ip6 + 1) > data_end) {
            ze_misc_add(ZE_MISC_OTHER, pkts, len);
            return;
        }
        struct ze_lpm6 k = {128};
        __builtin_memcpy(k.addr, &ip6->daddr, 16);
        r = ze_v6.lookup(&k);
        if (r && r->prefixlen <= 128 && ze_per_prefix()) {
            top.family = 6;
            top.prefixlen = r->prefixlen;
#pragma unroll
            for (int w = 0; w < 4; w++) {
                u32 word = bpf_ntohl(ip6->daddr.in6_u.u6_addr32[w]);
                int left = (int)r->prefixlen - w * 32;
                u32 mask = left >= 32 ? 0xffffffffU : (left <= 0 ? 0 : 0xffffffffU << (32 - left));
                u32 net = bpf_htonl(word & mask);
                __builtin_memcpy(top.addr + w * 4, &net, 4);
            }
        }
    } else {
        ze_misc_add(ZE_MISC_OTHER, pkts, len);
        return;
    }

    if (!r) {
        ze_misc_add(ZE_MISC_UNMATCHED, pkts, len);
        return;
    }
    u32 peer = r->peer;
    ze_add(ze_peer.lookup(&peer), pkts, len);
    if (top.family)
        ze_top_add(&top, pkts, len);
}

int ze_xdp(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    ze_count(data, data_end, 1, (u64)(data_end - data));
    return XDP_PASS;
}

#define ZE_HEADERS (14 + 8 + 40) /* Ethernet, two tags, IPv6: all the program reads */

int ze_tc(struct __sk_buff *skb)
{
    /* Headers outside the linear area: pull them in (this moves no packet byte, it only makes
     * them readable). */
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;
    if (data + ZE_HEADERS > data_end && skb->len > (u32)(data_end - data)) {
        bpf_skb_pull_data(skb, skb->len < ZE_HEADERS ? skb->len : ZE_HEADERS);
        data = (void *)(long)skb->data;
        data_end = (void *)(long)skb->data_end;
    }
    /* The stack strips the outer VLAN tag into skb metadata before tc ingress: add its 4 bytes
     * back so both programs count the frame as it was on the wire. A GRO/GSO skb stands for
     * gso_segs packets (bytes are then its length: the repeated headers are not counted). */
    u64 len = skb->len + (skb->vlan_present ? 4 : 0);
    u64 segs = skb->gso_segs;
    ze_count(data, data_end, segs > 1 ? segs : 1, len);
    return TC_ACT_OK;
}
