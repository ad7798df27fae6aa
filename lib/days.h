/*
 * days.h - dates of the proleptic Gregorian calendar as days since
 * 1970-01-01 (H. Hinnant's algorithms), so that times are read and
 * written in UTC without the C library's time zone.  Months are 1-12.
 */
#ifndef LLM_DAYS_H
#define LLM_DAYS_H

#include <stdbool.h>

bool days_leap(long y);
/* The days of month m of year y. */
int days_in_month(long y, int m);
/* Days from 1970-01-01 to y-m-d (negative before). */
long days_from_civil(long y, int m, int d);
/* The date that is z days from 1970-01-01. */
void days_to_civil(long z, long *y, int *m, int *d);

#endif
