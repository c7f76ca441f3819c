/* SPDX-License-Identifier: GPL-2.0 */
/* What the load-balancer fixtures (lb_cases.c) tell the catalogue's drop-reason coverage check. */
#ifndef XL4_TESTS_LB_CASES_H
#define XL4_TESTS_LB_CASES_H

#include <stdbool.h>

/* True when a row of the LB suite's drop table or ICMP table (or its ICMP no-flow and budget
 * checks) expects `reason`. For a reason no test run can
 * produce, false with *untestable set to the written explanation (else *untestable is NULL). */
bool lb_reason_expected(unsigned int reason, const char **untestable);

#endif
