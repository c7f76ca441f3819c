// SPDX-License-Identifier: GPL-2.0
/* The attach-time NIC check (src/nic_check.c): RX VLAN offload hides tags from XDP on real
 * drivers, not on veth. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <linux/ethtool.h>
#include <cmocka.h>

#include "nic_check.h"

static void test_rxvlan(void **state)
{
	(void)state;
	assert_true(xl4_rxvlan_hides_tags("ixgbe", ETH_FLAG_RXVLAN));
	assert_true(xl4_rxvlan_hides_tags("mlx5_core", ETH_FLAG_RXVLAN | ETH_FLAG_TXVLAN));
	assert_false(xl4_rxvlan_hides_tags("ixgbe", ETH_FLAG_TXVLAN)); /* off: nothing hidden */
	assert_false(xl4_rxvlan_hides_tags("ixgbe", 0));
	assert_false(xl4_rxvlan_hides_tags("veth", ETH_FLAG_RXVLAN)); /* XDP gets the frame as sent */
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_rxvlan) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}
