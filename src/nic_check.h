/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a NIC's offloads do to XDP, checked when xl4 attaches: with RX VLAN offload on, the
 * driver strips the 802.1Q tag into metadata before XDP runs, so the datapath sees untagged
 * frames (VLAN rules and the VLAN id in events miss) and every XDP_TX frame leaves untagged.
 */
#ifndef XL4_NIC_CHECK_H
#define XL4_NIC_CHECK_H

#include <stdbool.h>
#include <stdint.h>

/* Does RX VLAN offload (ETHTOOL_GFLAGS' ETH_FLAG_RXVLAN in flags) hide tags from XDP on this
 * driver? veth hands XDP the frame as sent, tag included, whatever its flag says. */
bool xl4_rxvlan_hides_tags(const char *driver, uint32_t ethtool_flags);
/* Warn (once, with the fix) when ifname's offloads get in XDP's way. Never fails. */
void xl4_nic_check(const char *ifname);

#endif
