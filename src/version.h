/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XL4_VERSION_H
#define XL4_VERSION_H
#define XL4_VERSION "0.1.0"
#endif
