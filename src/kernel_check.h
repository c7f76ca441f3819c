/* SPDX-License-Identifier: GPL-2.0 */
/* Start-up check of what the kernel and the process must offer, said plainly when missing. */
#ifndef XL4_KERNEL_CHECK_H
#define XL4_KERNEL_CHECK_H

/* Returns 0 when everything needed is there; otherwise logs one line per missing feature
 * and returns -EOPNOTSUPP (or -EPERM when not privileged). */
int xl4_features_check(void);

#endif
