/* SPDX-License-Identifier: GPL-2.0 */
/* Names for drop reasons and verdicts, as shown by stats, replay and metrics. */
#ifndef XL4_NAMES_H
#define XL4_NAMES_H

#include "xl4/abi.h"

const char *xl4_reason_name(unsigned int reason);
const char *xl4_reason_text(unsigned int reason);
int xl4_reason_from_name(const char *name); /* -1 when unknown */
const char *xl4_verdict_name(unsigned int verdict);

#endif
