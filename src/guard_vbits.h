/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XL4_GUARD_VBITS_H
#define XL4_GUARD_VBITS_H

/*
 * xl4_gvbit_v1 (include/xl4/abi.h: struct xl4_guard_vbits) from what the verified tables hold.
 * A newly loaded program's bits start clear, while the tables it took over from pins may hold
 * sources: without this, each of them would be asked to prove itself again. Bits are ORed into
 * what the map holds. Call it before the program is attached (nothing sets bits then).
 * Returns the number of sources read, or -errno.
 */
int xl4_guard_vbits_rebuild(int vbits_fd, int ver_fd, int verc_fd);

#endif /* XL4_GUARD_VBITS_H */
