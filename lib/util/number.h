/*
 * util/number.h - locale-independent decimal text <-> float.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TFRS_UTIL_NUMBER_H
#define TFRS_UTIL_NUMBER_H

#include "util/common.h"

/* Longest decimal text tfrs__decimal_to_float accepts. */
#define TFRS__DECIMAL_MAX 255
/* The float of the n bytes at s, which the caller has checked to be a
 * decimal number ([sign] digits [. digits] [e [sign] digits]), whatever the
 * C locale; -1 if it is longer than TFRS__DECIMAL_MAX, not all consumed or
 * not finite. */
int  tfrs__decimal_to_float(const char *s, size_t n, float *out);
/* 1 if the n bytes at s are a plain decimal number: [+-] digits
 * [. digits] [(e|E) [+-] digits] with at least one mantissa digit (no
 * white space, hexadecimal, "inf" or "nan", which strtod would take). */
int  tfrs__decimal_syntax(const char *s, size_t n);
/* As tfrs__decimal_to_float, to a double (strtod; note that strtod also
 * takes forms such as hexadecimal floats: callers that need plain
 * decimals check the text first). */
int  tfrs__decimal_to_double(const char *s, size_t n, double *out);
/* "%.9g" of x with '.' as the decimal point, whatever the C locale (every
 * finite float reads back exactly). */
void tfrs__float_to_decimal(char *buf, size_t cap, float x);
/* "%.17g" of x, likewise (every finite double reads back exactly). */
void tfrs__double_to_decimal(char *buf, size_t cap, double x);

#endif /* TFRS_UTIL_NUMBER_H */
