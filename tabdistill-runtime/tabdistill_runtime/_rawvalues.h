/* Raw values read as the feature schema reads them: numbers written as text, dates in a
 * column's fitted layout, category level keys.
 *
 * Plain C99 without Python, shared by the runtime's record encoder (_records.c) and the C
 * export (tabdistill/export/c_values.py embeds this file), so both read a value the same way.
 * The rules are those of number_formats.py, dates.py and levels.py; this file implements the
 * part of them a compiled reader can follow exactly:
 *
 * - numbers as text: the whole rule of number_formats.py, on UTF-8 text. Not read here (a
 *   stray, the runtime then asks Python): "inf" spelt with non-ASCII letters that Python's
 *   case-insensitive match accepts, a currency beginning with "inity", numbers longer than
 *   TDR_MAX_TEXT bytes.
 * - dates: the strptime layouts of dates.FORMATS (%Y %y %m %d %b %H %M %S %I %p, English month
 *   names and am/pm, ASCII digits); ISO 8601 as YYYY-MM-DD[(T| )HH:MM[:SS[.fff|.ffffff]]
 *   [Z|z|+HH:MM|-HH:MM]] (the forms every Python reads alike; other forms Python's
 *   fromisoformat reads differ between versions and are strays here); Unix seconds and
 *   milliseconds as numbers or as ASCII text (digits, '.', exponent, '_' between digits).
 *   A time is converted to microseconds since 1970-01-01 UTC exactly as datetime/timedelta do
 *   (timedelta's rounding of float seconds included); its parts (dates.PARTS) are exact for
 *   |microseconds| <= 2^53, the years 1685-2255 (tdr_date_parts says when they are not).
 * - level keys: levels.level_key's number texts and booleans.
 *
 * The dates are read by _rawdates.h, included after this file (kept apart for its length).
 *
 * The includer may define TDR_STRTOD(text, out): a correctly rounded, locale-independent
 * reading of an ASCII decimal ("[+-]digits[.digits][e[+-]digits]", "inf", "infinity"),
 * returning 0 on success. The default is tdr_strtod below.
 * Functions are static inline: a file that uses some of them compiles warning-free.
 */
#ifndef TDR_RAWVALUES_H
#define TDR_RAWVALUES_H

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TDR_FUNC static inline

/* what reading a value gave */
#define TDR_VALUE 0   /* a value */
#define TDR_MISSING 1 /* a missing value (NaN, a missing text) */
#define TDR_STRAY 2   /* not a value of the column's format (or not read here) */

/* date layouts (the named ones of dates.py; a strptime pattern is TDR_PATTERN) */
#define TDR_ISO 0
#define TDR_UNIX_S 1
#define TDR_UNIX_MS 2
#define TDR_PATTERN 3

/* date parts, in dates.PARTS order */
#define TDR_N_PARTS 7

#define TDR_MAX_TEXT 400

/* The NaN Python writes for a missing value (float("nan"), numpy.nan): positive, quiet. */
TDR_FUNC double tdr_nan(void)
{
    uint64_t bits = 0x7ff8000000000000ULL;
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

/* ---- text: spaces and missing values */

/* Bytes of the number_formats.SPACE character at s (ASCII spaces and U+00A0), else 0. */
TDR_FUNC size_t tdr_space_at(const char *s, size_t n)
{
    unsigned char c;
    if (n == 0)
        return 0;
    c = (unsigned char)s[0];
    if (c == ' ' || (c >= '\t' && c <= '\r'))
        return 1;
    if (n >= 2 && c == 0xC2 && (unsigned char)s[1] == 0xA0)
        return 2;
    return 0;
}

/* Bytes of the SPACE character ending s + n, else 0. */
TDR_FUNC size_t tdr_space_before(const char *s, size_t n)
{
    unsigned char c;
    if (n == 0)
        return 0;
    c = (unsigned char)s[n - 1];
    if (c == ' ' || (c >= '\t' && c <= '\r'))
        return 1;
    if (n >= 2 && c == 0xA0 && (unsigned char)s[n - 2] == 0xC2)
        return 2;
    return 0;
}

/* Whether code point u is whitespace to Python's str.isspace (what str.strip() removes). */
TDR_FUNC int tdr_is_pyspace(uint32_t u)
{
    return (u >= 0x09 && u <= 0x0D) || (u >= 0x1C && u <= 0x20) || u == 0x85 || u == 0xA0 ||
           u == 0x1680 || (u >= 0x2000 && u <= 0x200A) || u == 0x2028 || u == 0x2029 ||
           u == 0x202F || u == 0x205F || u == 0x3000;
}

/* Bytes of the Python whitespace character at s (UTF-8), else 0. */
TDR_FUNC size_t tdr_pyspace_at(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n == 0)
        return 0;
    if (u[0] < 0x80)
        return tdr_is_pyspace(u[0]) ? 1 : 0;
    if (n >= 2 && u[0] == 0xC2 && (u[1] == 0x85 || u[1] == 0xA0))
        return 2;
    if (n >= 3 && (u[0] & 0xF0) == 0xE0 && (u[1] & 0xC0) == 0x80 && (u[2] & 0xC0) == 0x80)
        return tdr_is_pyspace(((uint32_t)(u[0] & 0x0F) << 12) | ((uint32_t)(u[1] & 0x3F) << 6) |
                              (uint32_t)(u[2] & 0x3F))
                   ? 3
                   : 0;
    return 0;
}

/* Bytes of the Python whitespace character ending s + n, else 0. */
TDR_FUNC size_t tdr_pyspace_before(const char *s, size_t n)
{
    if (n >= 1 && (unsigned char)s[n - 1] < 0x80)
        return tdr_is_pyspace((unsigned char)s[n - 1]) ? 1 : 0;
    if (n >= 2 && tdr_pyspace_at(s + n - 2, 2) == 2)
        return 2;
    if (n >= 3 && tdr_pyspace_at(s + n - 3, 3) == 3)
        return 3;
    return 0;
}

/* s, n stripped of number_formats.SPACE (python: text.strip(SPACE)). */
TDR_FUNC void tdr_strip_space(const char **s, size_t *n)
{
    size_t k;
    while ((k = tdr_space_at(*s, *n)) > 0) {
        *s += k;
        *n -= k;
    }
    while ((k = tdr_space_before(*s, *n)) > 0)
        *n -= k;
}

/* s, n stripped of Python whitespace (python: text.strip()). */
TDR_FUNC void tdr_strip_pyspace(const char **s, size_t *n)
{
    size_t k;
    while ((k = tdr_pyspace_at(*s, *n)) > 0) {
        *s += k;
        *n -= k;
    }
    while ((k = tdr_pyspace_before(*s, *n)) > 0)
        *n -= k;
}

TDR_FUNC int tdr_equals(const char *s, size_t n, const char *word)
{
    size_t k = strlen(word);
    return n == k && memcmp(s, word, k) == 0;
}

/* Whether s, n (already stripped of SPACE) is one of number_formats.MISSING_TEXT. */
TDR_FUNC int tdr_missing_text(const char *s, size_t n)
{
    static const char *const words[] = {"",     "NA",   "N/A",  "n/a",  "NaN",  "nan", "NAN",
                                        "null", "NULL", "Null", "None", "none", "-"};
    size_t i;
    if (n > 4)
        return 0;
    for (i = 0; i < sizeof words / sizeof words[0]; i++)
        if (tdr_equals(s, n, words[i]))
            return 1;
    return 0;
}

TDR_FUNC int tdr_digit(char c) { return c >= '0' && c <= '9'; }

TDR_FUNC char tdr_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* Whether s (n bytes available) starts with the lower-case ASCII word, in any case. */
TDR_FUNC int tdr_starts_nocase(const char *s, size_t n, const char *word)
{
    size_t i, k = strlen(word);
    if (n < k)
        return 0;
    for (i = 0; i < k; i++)
        if (tdr_lower(s[i]) != word[i])
            return 0;
    return 1;
}

/* ---- ASCII decimal to double */

/* A correctly rounded, locale-independent reading of an ASCII decimal (see the top). Exact
 * arithmetic where the significand and the power of ten are exact doubles, else the C
 * library's strtod (correctly rounded in glibc, musl, and MSVC since 2019), with the locale's
 * decimal mark put in. */
TDR_FUNC int tdr_strtod(const char *text, double *out)
{
    static const double tens[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                  1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                  1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char *s = text;
    int negative = 0, digits = 0, exp10 = 0, exp_sign = 1, exp_value = 0, seen = 0;
    uint64_t m = 0;
    char copy[TDR_MAX_TEXT + 8], *end;
    const char *point;
    size_t i, j, point_len;
    if (*s == '+' || *s == '-')
        negative = *s++ == '-';
    if (tdr_starts_nocase(s, strlen(s), "inf")) {
        size_t len = strlen(s);
        if (!(len == 3 || (len == 8 && tdr_starts_nocase(s, len, "infinity"))))
            return -1;
        *out = negative ? -HUGE_VAL : HUGE_VAL;
        return 0;
    }
    for (; tdr_digit(*s); s++, seen = 1) {
        if (m == 0 && *s == '0')
            continue;
        if (digits < 19)
            m = m * 10 + (uint64_t)(*s - '0');
        else
            exp10++;
        digits++;
    }
    if (*s == '.')
        for (s++; tdr_digit(*s); s++, seen = 1) {
            if (m == 0 && *s == '0') {
                exp10--;
                continue;
            }
            if (digits < 19) {
                m = m * 10 + (uint64_t)(*s - '0');
                exp10--;
            }
            digits++;
        }
    if (!seen)
        return -1;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            exp_sign = *s++ == '-' ? -1 : 1;
        if (!tdr_digit(*s))
            return -1;
        for (; tdr_digit(*s); s++)
            if (exp_value < 100000)
                exp_value = exp_value * 10 + (*s - '0');
    }
    if (*s != '\0')
        return -1;
    exp10 += exp_sign * exp_value;
    if (m == 0) {
        *out = negative ? -0.0 : 0.0;
        return 0;
    }
    if (digits <= 19 && m <= (1ULL << 53) && exp10 >= -22 && exp10 <= 22) {
        double x = (double)m;
        x = exp10 < 0 ? x / tens[-exp10] : x * tens[exp10];
        *out = negative ? -x : x;
        return 0;
    }
    /* strtod, with the decimal point of the C locale replaced by the current locale's */
    point = localeconv()->decimal_point;
    point_len = strlen(point);
    for (i = 0, j = 0; text[i] != '\0' && j + point_len < sizeof copy; i++) {
        if (text[i] == '.') {
            memcpy(copy + j, point, point_len);
            j += point_len;
        } else {
            copy[j++] = text[i];
        }
    }
    if (text[i] != '\0')
        return -1;
    copy[j] = '\0';
    *out = strtod(copy, &end);
    return *end == '\0' ? 0 : -1;
}

#ifndef TDR_STRTOD
#define TDR_STRTOD(text, out) tdr_strtod(text, out)
#endif

/* ---- numbers written as text (number_formats.py) */

typedef struct {
    const char *currency; /* UTF-8, may be empty */
    size_t currency_len;
    const char *thousands; /* "" or one character (UTF-8) */
    size_t thousands_len;
    char decimal; /* '.' or ',' */
    int percent, parens;
} tdr_number_format;

typedef struct {
    int open, sign, cur, sign2, open2, pct, cur2, close; /* sign, sign2: '+', '-' or 0 */
    size_t number, number_end;
} tdr_marks;

TDR_FUNC size_t tdr_skip_space(const char *s, size_t n, size_t pos)
{
    size_t k;
    while ((k = tdr_space_at(s + pos, n - pos)) > 0)
        pos += k;
    return pos;
}

TDR_FUNC int tdr_has(const char *s, size_t n, size_t pos, const char *part, size_t len)
{
    return len > 0 && n - pos >= len && memcmp(s + pos, part, len) == 0;
}

TDR_FUNC size_t tdr_digits(const char *s, size_t n, size_t pos)
{
    size_t k = 0;
    while (pos + k < n && tdr_digit(s[pos + k]))
        k++;
    return k;
}

/* End of the number at pos (the rule's "number"), or 0 if there is none. */
TDR_FUNC size_t tdr_number_end(const char *s, size_t n, size_t pos, const tdr_number_format *f)
{
    size_t run, k, th = f->thousands_len;
    if (tdr_starts_nocase(s + pos, n - pos, "inf"))
        return pos + (tdr_starts_nocase(s + pos, n - pos, "infinity") ? 8 : 3);
    if (pos < n && s[pos] == f->decimal) { /* a fraction alone */
        k = tdr_digits(s, n, pos + 1);
        if (k == 0)
            return 0;
        pos += 1 + k;
    } else {
        if (pos >= n || !tdr_digit(s[pos]))
            return 0;
        run = s[pos] == '0' ? 1 : tdr_digits(s, n, pos);
        if (run <= 3 && s[pos] != '0' && tdr_has(s, n, pos + run, f->thousands, th) &&
            tdr_digits(s, n, pos + run + th) >= 3) {
            pos += run; /* digit groups */
            while (tdr_has(s, n, pos, f->thousands, th) && tdr_digits(s, n, pos + th) >= 3)
                pos += th + 3;
        } else {
            if (run > 15)
                return 0;
            pos += run;
        }
        if (pos < n && s[pos] == f->decimal)
            pos += 1 + tdr_digits(s, n, pos + 1);
    }
    if (pos < n && (s[pos] == 'e' || s[pos] == 'E')) {
        k = pos + 1;
        if (k < n && (s[k] == '+' || s[k] == '-'))
            k++;
        if (tdr_digits(s, n, k) > 0)
            pos = k + tdr_digits(s, n, k);
    }
    return pos;
}

/* Match the whole text with the rule's marks around the number; with_cur = 0 forbids a
 * currency before the number (the second try, as the rule's pattern backtracks). */
TDR_FUNC int tdr_match_marks(const char *s, size_t n, const tdr_number_format *f, int with_cur,
                             tdr_marks *m)
{
    size_t pos = 0, cl = f->currency_len;
    memset(m, 0, sizeof *m);
    if (pos < n && s[pos] == '(') {
        m->open = 1;
        pos = tdr_skip_space(s, n, pos + 1);
    }
    if (pos < n && (s[pos] == '+' || s[pos] == '-')) {
        m->sign = s[pos];
        pos = tdr_skip_space(s, n, pos + 1);
    }
    if (with_cur && tdr_has(s, n, pos, f->currency, cl)) {
        m->cur = 1;
        pos = tdr_skip_space(s, n, pos + cl);
    }
    if (pos < n && (s[pos] == '+' || s[pos] == '-')) {
        m->sign2 = s[pos];
        pos = tdr_skip_space(s, n, pos + 1);
    }
    if (pos < n && s[pos] == '(') {
        m->open2 = 1;
        pos = tdr_skip_space(s, n, pos + 1);
    }
    m->number = pos;
    pos = tdr_number_end(s, n, pos, f);
    if (pos == 0)
        return 0;
    m->number_end = pos;
    pos = tdr_skip_space(s, n, pos);
    if (pos < n && s[pos] == '%') {
        m->pct = 1;
        pos = tdr_skip_space(s, n, pos + 1);
    }
    if (tdr_has(s, n, pos, f->currency, cl)) {
        m->cur2 = 1;
        pos = tdr_skip_space(s, n, pos + cl);
    }
    if (pos < n && s[pos] == ')') {
        m->close = 1;
        pos++;
    }
    return pos == n;
}

/* The value of a number text s, n in format f (number_formats.parse_number): TDR_VALUE with
 * *out, TDR_MISSING (*out NaN) for a missing text, else TDR_STRAY. */
TDR_FUNC int tdr_read_number(const char *s, size_t n, const tdr_number_format *f, double *out)
{
    tdr_marks m;
    char text[TDR_MAX_TEXT + 1];
    size_t i, j = 0;
    int parens, sign;
    double value;
    tdr_strip_space(&s, &n);
    if (tdr_missing_text(s, n)) {
        *out = tdr_nan();
        return TDR_MISSING;
    }
    if (f->currency_len >= 5 && tdr_starts_nocase(f->currency, f->currency_len, "inity"))
        return TDR_STRAY; /* "infinity" would read as "inf" and a currency: not decided here */
    if (!tdr_match_marks(s, n, f, 1, &m) && !(m.cur && tdr_match_marks(s, n, f, 0, &m)))
        return TDR_STRAY;
    parens = m.open + m.open2;
    sign = m.sign ? m.sign : m.sign2;
    if (parens > 1 || (parens == 1) != m.close || (parens && (!f->parens || sign)) ||
        (m.sign && m.sign2) || (m.pct && !f->percent) || (m.cur && m.cur2))
        return TDR_STRAY;
    if (m.number_end - m.number > TDR_MAX_TEXT)
        return TDR_STRAY;
    for (i = m.number; i < m.number_end;) {
        if (f->thousands_len && s[i] == f->thousands[0] &&
            tdr_has(s, m.number_end, i, f->thousands, f->thousands_len)) {
            i += f->thousands_len;
            continue;
        }
        text[j++] = s[i] == f->decimal ? '.' : s[i];
        i++;
    }
    text[j] = '\0';
    if (TDR_STRTOD(text, &value) != 0)
        return TDR_STRAY;
    *out = (parens || sign == '-') ? -value : value;
    return TDR_VALUE;
}

/* ---- level keys (levels.py) */

/* Whether s, n is a number as levels._NUMBER_TEXT reads one:
 * [+-]?(0|[1-9][0-9]{0,14})(\.[0-9]+)? */
TDR_FUNC int tdr_number_text(const char *s, size_t n)
{
    size_t pos = 0, k;
    if (pos < n && (s[pos] == '+' || s[pos] == '-'))
        pos++;
    if (pos < n && s[pos] == '0') {
        pos++;
    } else {
        k = tdr_digits(s, n, pos);
        if (k == 0 || k > 15)
            return 0;
        pos += k;
    }
    if (pos < n && s[pos] == '.') {
        k = tdr_digits(s, n, pos + 1);
        if (k == 0)
            return 0;
        pos += 1 + k;
    }
    return pos == n;
}

/* 1 for the texts "True"/"true", 0 for "False"/"false", -1 for any other. */
TDR_FUNC int tdr_bool_text(const char *s, size_t n)
{
    if (tdr_equals(s, n, "True") || tdr_equals(s, n, "true"))
        return 1;
    if (tdr_equals(s, n, "False") || tdr_equals(s, n, "false"))
        return 0;
    return -1;
}

/* The level key of a whole number x with |x| < 2^53 (its integer text) into buf (24 bytes):
 * its length, or 0 when x is not such a number. */
TDR_FUNC int tdr_integer_key(double x, char *buf)
{
    if (!(fabs(x) < 9007199254740992.0) || x != floor(x))
        return 0;
    return sprintf(buf, "%lld", (long long)x);
}

#endif /* TDR_RAWVALUES_H */
