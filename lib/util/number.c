/*
 * number.c - decimal text <-> float, independent of the C locale.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * strtof and printf follow LC_NUMERIC, which an application may set to a
 * locale whose decimal point is ','.  Data files and the model file always
 * use '.', so these helpers swap the point before strtof and after printf.
 */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/number.h"

/* The locale's decimal point if it is one character other than '.', else 0. */
static char locale_point(void)
{
    const char *dp = localeconv()->decimal_point;

    if (dp != NULL && dp[0] != '\0' && dp[0] != '.' && dp[1] == '\0')
        return dp[0];
    return 0;
}

int tfrs__decimal_to_float(const char *s, size_t n, float *out)
{
    char buf[TFRS__DECIMAL_MAX + 1], dp = locale_point(), *end, *p;
    float f;

    if (n == 0 || n > TFRS__DECIMAL_MAX)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (dp != 0 && (p = strchr(buf, '.')) != NULL)
        *p = dp;
    f = strtof(buf, &end);
    if (end != buf + n || !isfinite(f))
        return -1;
    *out = f;
    return 0;
}

void tfrs__float_to_decimal(char *buf, size_t cap, float x)
{
    char dp = locale_point(), *p;

    snprintf(buf, cap, "%.9g", (double)x);
    if (dp != 0 && (p = strchr(buf, dp)) != NULL)
        *p = '.';
}
