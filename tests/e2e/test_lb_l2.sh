#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The load balancer end to end in l2 mode: see tests/e2e/lb_test.sh for what is checked.
exec bash "$(dirname "${BASH_SOURCE[0]}")/lb_test.sh" l2
