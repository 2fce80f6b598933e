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

/* The n bytes at s in buf (TFRS__DECIMAL_MAX + 1 bytes), NUL-terminated,
 * with the locale's decimal point: 0, or -1 if n is 0 or too long. */
static int localize(const char *s, size_t n, char *buf)
{
    char dp = locale_point(), *p;

    if (n == 0 || n > TFRS__DECIMAL_MAX)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (dp != 0 && (p = strchr(buf, '.')) != NULL)
        *p = dp;
    return 0;
}

int tfrs__decimal_syntax(const char *s, size_t n)
{
    size_t i = 0, digits = 0, edigits = 0;

    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
    if (digits == 0)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            edigits++;
        if (edigits == 0)
            return 0;
    }
    return i == n;
}

int tfrs__decimal_to_float(const char *s, size_t n, float *out)
{
    char buf[TFRS__DECIMAL_MAX + 1], *end;
    float f;

    if (localize(s, n, buf) < 0)
        return -1;
    f = strtof(buf, &end);
    if (end != buf + n || !isfinite(f))
        return -1;
    *out = f;
    return 0;
}

int tfrs__decimal_to_double(const char *s, size_t n, double *out)
{
    char buf[TFRS__DECIMAL_MAX + 1], *end;
    double d;

    if (localize(s, n, buf) < 0)
        return -1;
    d = strtod(buf, &end);
    if (end != buf + n || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

/* printf's "%.<digits>g" of x with '.' as the decimal point. */
static void delocalized(char *buf, size_t cap, int digits, double x)
{
    char dp = locale_point(), *p;

    snprintf(buf, cap, "%.*g", digits, x);
    if (dp != 0 && (p = strchr(buf, dp)) != NULL)
        *p = '.';
}

void tfrs__float_to_decimal(char *buf, size_t cap, float x)
{
    delocalized(buf, cap, 9, (double)x);
}

void tfrs__double_to_decimal(char *buf, size_t cap, double x)
{
    delocalized(buf, cap, 17, x);
}
