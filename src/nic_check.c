// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "log.h"
#include "nic_check.h"

bool xl4_rxvlan_hides_tags(const char *driver, uint32_t ethtool_flags)
{
	return (ethtool_flags & ETH_FLAG_RXVLAN) && strcmp(driver, "veth") != 0;
}

static int ethtool(int fd, const char *ifname, void *cmd)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = cmd;
	return ioctl(fd, SIOCETHTOOL, &ifr) ? -errno : 0;
}

void xl4_nic_check(const char *ifname)
{
	struct ethtool_drvinfo drv = { .cmd = ETHTOOL_GDRVINFO };
	struct ethtool_value flags = { .cmd = ETHTOOL_GFLAGS };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	/* a driver that answers neither has nothing to say about tags: nothing to warn about */
	if (!ethtool(fd, ifname, &drv) && !ethtool(fd, ifname, &flags) &&
	    xl4_rxvlan_hides_tags(drv.driver, flags.data))
		pr_warn("%s: RX VLAN offload is on (driver %s): XDP sees frames with the VLAN tag "
			"already stripped, so VLAN-tagged traffic is judged untagged and every XDP_TX "
			"answer leaves untagged. If VIP traffic arrives tagged, turn it off: "
			"ethtool -K %s rxvlan off", ifname, drv.driver, ifname);
	close(fd);
}
