/* Raw values read as the feature schema reads them, part two: dates in a column's fitted
 * layout (dates.py), as described at the top of _rawvalues.h.
 *
 * Plain C99 without Python, shared like _rawvalues.h by the runtime's record encoder
 * (_records.c) and the C export (tabdistill/export/c_values.py embeds both files, this one
 * after _rawvalues.h, whose definitions it uses). Functions are static inline.
 */
#ifndef TDR_RAWDATES_H
#define TDR_RAWDATES_H

#ifndef TDR_RAWVALUES_H
#error "_rawdates.h needs _rawvalues.h included first"
#endif

/* ---- dates (dates.py) */

#define TDR_US_PER_DAY 86400000000LL
#define TDR_EXACT_US 9007199254740992LL /* 2^53 */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
TDR_FUNC int64_t tdr_days_from_civil(int64_t y, int64_t m, int64_t d)
{
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

TDR_FUNC void tdr_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

TDR_FUNC int tdr_days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days[m - 1] + (m == 2 && leap);
}

/* First and last microsecond of datetime's range (years 1 to 9999) since 1970. */
#define TDR_MIN_US (-62135596800LL * 1000000LL)
#define TDR_MAX_US (253402300800LL * 1000000LL - 1)

typedef struct {
    int year, month, day, hour, minute, second, microsecond;
    int zoned, offset; /* offset: seconds east of UTC, for a zoned time */
} tdr_fields;

/* Microseconds since 1970 of a time's fields, as a naive UTC time (a zoned one converted to
 * UTC); TDR_STRAY if the date does not exist or leaves datetime's range. */
TDR_FUNC int tdr_fields_us(const tdr_fields *t, int64_t *us)
{
    int64_t x;
    if (t->year < 1 || t->year > 9999 || t->month < 1 || t->month > 12 || t->day < 1 ||
        t->day > tdr_days_in_month(t->year, t->month) || t->hour > 23 || t->minute > 59 ||
        t->second > 59)
        return TDR_STRAY;
    x = tdr_days_from_civil(t->year, t->month, t->day) * TDR_US_PER_DAY;
    x += ((int64_t)t->hour * 3600 + t->minute * 60 + t->second) * 1000000LL + t->microsecond;
    if (t->zoned)
        x -= (int64_t)t->offset * 1000000LL;
    if (x < TDR_MIN_US || x > TDR_MAX_US)
        return TDR_STRAY;
    *us = x;
    return TDR_VALUE;
}

/* n ASCII digits at s as a number, or -1. */
TDR_FUNC int tdr_fixed_digits(const char *s, size_t avail, size_t n)
{
    int v = 0;
    size_t i;
    if (avail < n)
        return -1;
    for (i = 0; i < n; i++) {
        if (!tdr_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* ISO 8601 as described at the top (Python's fromisoformat, after dates._parse_iso turns a
 * final Z into +00:00). */
TDR_FUNC int tdr_parse_iso(const char *s, size_t n, tdr_fields *t)
{
    size_t pos;
    int k, sign;
    memset(t, 0, sizeof *t);
    if (n < 10 || s[4] != '-' || s[7] != '-')
        return TDR_STRAY;
    t->year = tdr_fixed_digits(s, n, 4);
    t->month = tdr_fixed_digits(s + 5, n - 5, 2);
    t->day = tdr_fixed_digits(s + 8, n - 8, 2);
    if (t->year < 0 || t->month < 0 || t->day < 0)
        return TDR_STRAY;
    if (n == 10)
        return TDR_VALUE;
    if ((s[10] != 'T' && s[10] != ' ') || n < 16 || s[13] != ':')
        return TDR_STRAY;
    t->hour = tdr_fixed_digits(s + 11, n - 11, 2);
    t->minute = tdr_fixed_digits(s + 14, n - 14, 2);
    if (t->hour < 0 || t->minute < 0)
        return TDR_STRAY;
    pos = 16;
    if (pos < n && s[pos] == ':') {
        t->second = tdr_fixed_digits(s + pos + 1, n - pos - 1, 2);
        if (t->second < 0)
            return TDR_STRAY;
        pos += 3;
        if (pos < n && s[pos] == '.') {
            size_t k2 = tdr_digits(s, n, pos + 1);
            if (k2 != 3 && k2 != 6)
                return TDR_STRAY;
            t->microsecond = tdr_fixed_digits(s + pos + 1, n - pos - 1, k2);
            if (k2 == 3)
                t->microsecond *= 1000;
            pos += 1 + k2;
        }
    }
    if (pos == n)
        return TDR_VALUE;
    if (pos + 1 == n && (s[pos] == 'Z' || s[pos] == 'z')) {
        t->zoned = 1;
        return TDR_VALUE;
    }
    if (pos + 6 != n || (s[pos] != '+' && s[pos] != '-') || s[pos + 3] != ':')
        return TDR_STRAY;
    sign = s[pos] == '-' ? -1 : 1;
    k = tdr_fixed_digits(s + pos + 1, 2, 2);
    t->offset = tdr_fixed_digits(s + pos + 4, 2, 2);
    if (k < 0 || k > 23 || t->offset < 0 || t->offset > 59)
        return TDR_STRAY;
    t->offset = sign * (k * 3600 + t->offset * 60);
    t->zoned = 1;
    return TDR_VALUE;
}

/* The maximal run of ASCII digits at pos, at most 2, read as a strptime directive whose
 * alternatives accept lo..hi (two digits: "0X" included) and, with one digit, one_lo..9. */
TDR_FUNC int tdr_directive(const char *s, size_t n, size_t *pos, int lo, int hi, int one_lo)
{
    size_t k = tdr_digits(s, n, *pos);
    int v;
    if (k == 1) {
        v = s[*pos] - '0';
        *pos += 1;
        return v >= one_lo ? v : -1;
    }
    if (k != 2)
        return -1;
    v = (s[*pos] - '0') * 10 + (s[*pos + 1] - '0');
    *pos += 2;
    return v >= lo && v <= hi ? v : -1;
}

/* A strptime pattern of dates.FORMATS matched as Python's _strptime matches it (see the top). */
TDR_FUNC int tdr_parse_pattern(const char *s, size_t n, const char *pattern, tdr_fields *t)
{
    static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                         "jul", "aug", "sep", "oct", "nov", "dec"};
    size_t pos = 0, k;
    int v, i, twelve = -1, pm = -1;
    memset(t, 0, sizeof *t);
    t->day = 1;
    for (; *pattern; pattern++) {
        if (*pattern == ' ') { /* one or more whitespace characters */
            if ((k = tdr_pyspace_at(s + pos, n - pos)) == 0)
                return TDR_STRAY;
            while ((k = tdr_pyspace_at(s + pos, n - pos)) > 0)
                pos += k;
            continue;
        }
        if (*pattern != '%') {
            if (pos >= n || s[pos] != *pattern)
                return TDR_STRAY;
            pos++;
            continue;
        }
        switch (*++pattern) {
        case 'Y':
            if (tdr_digits(s, n, pos) != 4)
                return TDR_STRAY;
            t->year = tdr_fixed_digits(s + pos, n - pos, 4);
            pos += 4;
            break;
        case 'y':
            if (tdr_digits(s, n, pos) != 2)
                return TDR_STRAY;
            v = tdr_fixed_digits(s + pos, n - pos, 2);
            t->year = v <= 68 ? 2000 + v : 1900 + v;
            pos += 2;
            break;
        case 'm':
            if ((t->month = tdr_directive(s, n, &pos, 1, 12, 1)) < 0)
                return TDR_STRAY;
            break;
        case 'd':
            if (pos + 1 < n && s[pos] == ' ' && s[pos + 1] >= '1' && s[pos + 1] <= '9' &&
                tdr_digits(s, n, pos + 1) == 1) {
                t->day = s[pos + 1] - '0';
                pos += 2;
            } else if ((t->day = tdr_directive(s, n, &pos, 1, 31, 1)) < 0) {
                return TDR_STRAY;
            }
            break;
        case 'H':
            if ((t->hour = tdr_directive(s, n, &pos, 0, 23, 0)) < 0)
                return TDR_STRAY;
            break;
        case 'I':
            if ((twelve = tdr_directive(s, n, &pos, 1, 12, 1)) < 0)
                return TDR_STRAY;
            break;
        case 'M':
            if ((t->minute = tdr_directive(s, n, &pos, 0, 59, 0)) < 0)
                return TDR_STRAY;
            break;
        case 'S':
            if ((t->second = tdr_directive(s, n, &pos, 0, 61, 0)) < 0)
                return TDR_STRAY;
            break;
        case 'b':
            for (i = 0; i < 12; i++)
                if (tdr_starts_nocase(s + pos, n - pos, months[i]))
                    break;
            if (i == 12)
                return TDR_STRAY;
            t->month = i + 1;
            pos += 3;
            break;
        case 'p':
            if (tdr_starts_nocase(s + pos, n - pos, "am"))
                pm = 0;
            else if (tdr_starts_nocase(s + pos, n - pos, "pm"))
                pm = 1;
            else
                return TDR_STRAY;
            pos += 2;
            break;
        default:
            return TDR_STRAY; /* not a directive of dates.FORMATS */
        }
    }
    if (pos != n)
        return TDR_STRAY;
    if (twelve >= 0) /* _strptime: 12 AM is 0, 12 PM is 12; without %p, AM */
        t->hour = pm == 1 ? (twelve == 12 ? 12 : twelve + 12) : (twelve == 12 ? 0 : twelve);
    return TDR_VALUE;
}

/* Microseconds since 1970 of a Unix time of `seconds` (the float Python passes to
 * timedelta(seconds=...), rounded to the microsecond as timedelta rounds it). */
TDR_FUNC int tdr_unix_us(double seconds, int64_t *us)
{
    double intpart, fracpart, leftover = 0.0, whole;
    int64_t x;
    if (!(fabs(seconds) < 4e11)) /* beyond datetime's range, or not finite */
        return TDR_STRAY;
    fracpart = modf(seconds, &intpart);
    x = (int64_t)intpart * 1000000LL;
    if (fracpart != 0.0) {
        fracpart = modf(1e6 * fracpart, &intpart);
        x += (int64_t)intpart;
        leftover += fracpart;
    }
    if (leftover != 0.0) {
        whole = round(leftover);
        if (fabs(whole - leftover) == 0.5) { /* halfway: to even */
            int odd = (int)(x & 1);
            whole = 2.0 * round((leftover + odd) * 0.5) - odd;
        }
        x += (int64_t)whole;
    }
    if (x < TDR_MIN_US || x > TDR_MAX_US)
        return TDR_STRAY;
    *us = x;
    return TDR_VALUE;
}

/* A Unix time written as text (python: float(text.strip())), in seconds times `unit`. */
TDR_FUNC int tdr_unix_text(const char *s, size_t n, double unit, int64_t *us)
{
    char text[TDR_MAX_TEXT + 1];
    size_t i, j = 0;
    double value;
    tdr_strip_pyspace(&s, &n);
    if (n == 0 || n > TDR_MAX_TEXT)
        return TDR_STRAY;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (c == '_' && i > 0 && i + 1 < n && tdr_digit(s[i - 1]) && tdr_digit(s[i + 1]))
            continue;
        if (!(tdr_digit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
            return TDR_STRAY; /* words (inf, nan) included: Python finds no time in them */
        text[j++] = c;
    }
    text[j] = '\0';
    if (TDR_STRTOD(text, &value) != 0)
        return TDR_STRAY;
    return tdr_unix_us(value * unit, us);
}

/* A date written as text in a column's layout: TDR_VALUE (*us, *zoned), TDR_MISSING, or
 * TDR_STRAY (dates.read_date gives None for a present value). */
TDR_FUNC int tdr_read_date_text(const char *s, size_t n, int layout, const char *pattern,
                                int64_t *us, int *zoned)
{
    const char *t = s;
    size_t k = n;
    tdr_fields f;
    int status;
    tdr_strip_space(&t, &k);
    if (tdr_missing_text(t, k))
        return TDR_MISSING;
    *zoned = layout == TDR_UNIX_S || layout == TDR_UNIX_MS;
    if (*zoned)
        return tdr_unix_text(s, n, layout == TDR_UNIX_MS ? 1e-3 : 1.0, us);
    tdr_strip_pyspace(&s, &n);
    status = layout == TDR_ISO ? tdr_parse_iso(s, n, &f) : tdr_parse_pattern(s, n, pattern, &f);
    if (status != TDR_VALUE)
        return status;
    *zoned = f.zoned;
    return tdr_fields_us(&f, us);
}

/* The dates.PARTS of a naive UTC time, microseconds since 1970: 1 if they are exactly what
 * Python computes (|us| <= 2^53), 0 if the timestamp part may differ in its last bit. */
TDR_FUNC int tdr_date_parts(int64_t us, double *parts)
{
    int64_t days = us >= 0 ? us / TDR_US_PER_DAY : -((-us + TDR_US_PER_DAY - 1) / TDR_US_PER_DAY);
    int64_t in_day = us - days * TDR_US_PER_DAY;
    int y, m, d;
    tdr_civil_from_days(days, &y, &m, &d);
    parts[0] = ((double)us / 1e6) / 86400.0;
    parts[1] = (double)y;
    parts[2] = (double)m;
    parts[3] = (double)d;
    parts[4] = (double)(((days % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday */
    parts[5] = (double)(in_day / 3600000000LL);
    parts[6] = (double)((in_day / 60000000LL) % 60);
    return us >= -TDR_EXACT_US && us <= TDR_EXACT_US;
}

#endif /* TDR_RAWDATES_H */
