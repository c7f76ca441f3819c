/* SPDX-License-Identifier: GPL-2.0 */
/* What the filter fixtures (filter_cases.c) tell the catalogue's drop-reason coverage check. */
#ifndef XL4_TESTS_FILTER_CASES_H
#define XL4_TESTS_FILTER_CASES_H

#include <stdbool.h>

/* True when some filter fixture expects `reason` (the suite fails itself if one of the reasons
 * it claims here was never expected by a fixture that ran). Every filter reason is
 * testable: *untestable is left as it is (the LB check before this one may have set it). */
bool filter_reason_expected(unsigned int reason, const char **untestable);

#endif
