// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "names.h"

#define XL4_REASON_NAME(id, name, text) [XL4_R_##id] = name,
static const char *const reason_names[XL4_REASON_MAX] = { XL4_REASONS(XL4_REASON_NAME) };
#define XL4_REASON_TEXT(id, name, text) [XL4_R_##id] = text,
static const char *const reason_texts[XL4_REASON_MAX] = { XL4_REASONS(XL4_REASON_TEXT) };

static const char *const verdict_names[XL4_VERDICT_MAX] = {
	[XL4_V_ABORTED] = "aborted", [XL4_V_DROP] = "drop", [XL4_V_PASS] = "pass",
	[XL4_V_TX] = "tx",	     [XL4_V_REDIRECT] = "redirect",
};

const char *xl4_reason_name(unsigned int reason)
{
	return reason < XL4_REASON_MAX ? reason_names[reason] : "unknown";
}

const char *xl4_reason_text(unsigned int reason)
{
	return reason < XL4_REASON_MAX ? reason_texts[reason] : "unknown reason";
}

int xl4_reason_from_name(const char *name)
{
	for (unsigned int i = 0; i < XL4_REASON_MAX; i++)
		if (!strcmp(reason_names[i], name))
			return (int)i;
	return -1;
}

const char *xl4_verdict_name(unsigned int verdict)
{
	return verdict < XL4_VERDICT_MAX ? verdict_names[verdict] : "unknown";
}
